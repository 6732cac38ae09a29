import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** The built CLI, as a user runs it. */
export const cliPath = join(repoRoot, 'dist', 'cli.js');

/** A fresh temporary directory for one test. */
export function tempDir(prefix = 'tsbpf-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
