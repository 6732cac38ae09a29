// docs/cli.md and docs/api.md are generated from the CLI's --help and from the runtime's
// source: these fail when either changed and the page was not regenerated (the message says
// which script to run).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot } from '../helpers/paths.js';

function check(script: string) {
  const result = spawnSync(process.execPath, [join(repoRoot, 'scripts', script), '--check'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

it('docs/cli.md holds the --help of every command', () => {
  const { code, output } = check('docs-cli.mjs');
  expect(code, output).toBe(0);
});

it('docs/api.md is the reference of what src/runtime/index.ts exports', () => {
  const { code, output } = check('docs-api.mjs');
  expect(code, output).toBe(0);
}, 60_000);
