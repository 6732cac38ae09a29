// Stack frames from an installed tsbpf name files that exist: the package ships no source map
// whose sources it leaves out (it ships none today; a map added later must bring its sources).
// Reads what `npm pack` would publish, after the global setup's build.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot } from '../helpers/paths.js';

it('ships no source map that points at files outside the package', () => {
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  ) as Array<{ files: Array<{ path: string }> }>;
  const files = new Set(packed[0]?.files.map((f) => f.path));
  expect(files.has('dist/cli.js')).toBe(true);
  const missing: string[] = [];
  for (const map of [...files].filter((f) => f.endsWith('.map'))) {
    const { sources = [], sourceRoot = '' } = JSON.parse(readFileSync(join(repoRoot, map), 'utf8')) as {
      sources?: string[];
      sourceRoot?: string;
    };
    for (const source of sources) {
      const path = normalize(join(dirname(map), sourceRoot, source));
      if (!files.has(path)) missing.push(`${map}: ${source}`);
    }
  }
  expect(missing).toEqual([]);
});
