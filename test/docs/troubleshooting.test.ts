// docs/troubleshooting.md lists every check `tsbpf doctor` runs, with its fix: a new check
// without a row there fails this test.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cliPath, repoRoot } from '../helpers/paths.js';

it('has a row for every doctor check', () => {
  const result = spawnSync(process.execPath, [cliPath, 'doctor', '--json'], { encoding: 'utf8' });
  const report = JSON.parse(result.stdout) as { checks: Array<{ id: string }> };
  const page = readFileSync(join(repoRoot, 'docs', 'troubleshooting.md'), 'utf8');
  const rows = new Set([...page.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]));
  expect(report.checks.length).toBeGreaterThan(10);
  const missing = report.checks.map((c) => c.id).filter((id) => !rows.has(id));
  expect(missing).toEqual([]);
});
