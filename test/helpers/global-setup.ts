// Builds dist/ once before the suite, so tests that drive the real CLI run the current code: tsc,
// then the CLI bundle (what `npm run build` runs, see scripts/bundle.mjs).
// Type errors do not stop the emit here; `npm run typecheck` is where they fail.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  try {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
      cwd: root,
      stdio: 'pipe',
    });
  } catch {
    // emitted anyway; see the comment above
  }
  // esbuild does not type-check, so this fails only on code that cannot be parsed or resolved.
  execFileSync(process.execPath, ['scripts/bundle.mjs'], { cwd: root, stdio: 'pipe' });
}
