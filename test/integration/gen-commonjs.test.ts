// Generated loaders in a CommonJS package (no "type": "module"): tsc refuses their import.meta.url
// (TS1470), so gen says so with the fix; the fixes it names (--embed, "type": "module") type-check.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, tempProject, tsbpf, vmlinuxArgs } from '../fixtures/gen/helpers.js';
import { repoRoot } from '../helpers/paths.js';

/** A project with a package.json of `pkg` and a tsconfig.json (with a comment, as tsc --init writes) of `module`. */
function project(pkg: Record<string, unknown>, module: string): string {
  const dir = tempProject('tsbpf-cjs-');
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: 'cjs-test', private: true, ...pkg })}\n`,
  );
  writeFileSync(
    join(dir, 'tsconfig.json'),
    `{
  // compiled as the project says
  "compilerOptions": {
    "target": "ES2022",
    "module": "${module}",
    "strict": true,
    "skipLibCheck": true,
    "noEmit": true,
    "types": ["node"],
    "typeRoots": [${JSON.stringify(join(repoRoot, 'node_modules', '@types'))}],
  },
}
`,
  );
  return dir;
}

/** tsc's error lines for the project in `dir` (empty when it type-checks). */
function tscErrors(dir: string): string[] {
  try {
    execFileSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', dir], {
      cwd: dir,
      encoding: 'utf8',
    });
    return [];
  } catch (error) {
    return String((error as { stdout?: string }).stdout)
      .split('\n')
      .filter((l) => /error TS\d+/.test(l));
  }
}

const gen = (dir: string, extra: string[] = []) =>
  tsbpf(
    [
      'gen',
      'probe',
      fixture('ring.c'),
      '--target',
      'bpfel',
      '--event',
      'events=event',
      ...extra,
      ...vmlinuxArgs(),
    ],
    dir,
  );

describe('tsbpf gen in a CommonJS package', () => {
  it('notes that tsc refuses import.meta.url under NodeNext without "type": "module", which tsc confirms', async () => {
    const dir = project({}, 'NodeNext');
    const result = await gen(dir);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(
      `note: probe.ts finds its objects with import.meta.url, which tsc refuses (TS1470) in a package without "type": "module" (${join(dir, 'package.json')}) under "module": "nodenext": ` +
        `add "type": "module" to ${join(dir, 'package.json')}, or generate with --embed`,
    );
    const errors = tscErrors(dir);
    expect(errors.length).toBeGreaterThan(0);
    for (const line of errors)
      expect(line).toMatch(/^probe\.ts\(\d+,\d+\): error TS1470: The 'import\.meta' meta-property/);
  }, 60_000);

  it('--embed, one of the fixes named, needs no note and type-checks', async () => {
    const dir = project({}, 'NodeNext');
    const result = await gen(dir, ['--embed']);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('import.meta');
    expect(tscErrors(dir)).toEqual([]);
  }, 60_000);

  it('"type": "module", the other fix, needs no note and type-checks', async () => {
    const dir = project({ type: 'module' }, 'NodeNext');
    const result = await gen(dir);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('note:');
    expect(tscErrors(dir)).toEqual([]);
  }, 60_000);

  it('"module": "CommonJS": says tsc cannot resolve tsbpf there either, which tsc confirms', async () => {
    const dir = project({}, 'commonjs');
    const result = await gen(dir, ['--embed']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `note: ${join(dir, 'tsconfig.json')} has "module": "CommonJS", under which tsc cannot resolve 'tsbpf' (an ES module package)`,
    );
    expect(result.stdout).toContain('set "module": "NodeNext" there and add "type": "module"');
    expect(tscErrors(dir).some((l) => l.includes("error TS2307: Cannot find module 'tsbpf'"))).toBe(true);
  }, 60_000);
});
