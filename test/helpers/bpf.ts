// Compiles C fixtures for tests with the product's own clang flags (src/toolchain/flags.ts).
// Objects are cached by content under the system temp dir, so the many tests that share a
// fixture compile it once per run. Synchronous, so fixtures can be built at module level.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/atomic.js';
import { clangArgs, defaultIncludeDirs } from '../../src/toolchain/flags.js';
import { resolveTargets } from '../../src/toolchain/targets.js';

const cacheDir = join(tmpdir(), 'tsbpf-test-cache');

/** vmlinux.h for this machine's kernel, generated once. Returns the folder that holds it. */
export function vmlinuxDir(): string {
  const dir = join(cacheDir, 'vmlinux');
  const header = join(dir, 'vmlinux.h');
  if (!existsSync(header)) {
    const text = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
      maxBuffer: 1 << 28,
    });
    writeFileAtomic(header, text);
  }
  return dir;
}

export interface CompileFixtureOptions {
  /** 'bpfel' (default) or 'bpfeb'. */
  target?: 'bpfel' | 'bpfeb';
  cflags?: string[];
  /** Keep DWARF (default: stripped, as tsbpf ships objects). */
  keepDebug?: boolean;
}

/** Compiles C source text (a test's inline program, saved as `<name>.bpf.c`) to an object's bytes. */
export function compileSource(name: string, text: string, options: CompileFixtureOptions = {}): Uint8Array {
  const source = join(cacheDir, 'sources', `${name}.bpf.c`);
  writeFileAtomic(source, text);
  return compileFixture(source, options);
}

/** Compiles a C fixture (path) to a BPF object and returns the object's bytes. */
export function compileFixture(source: string, options: CompileFixtureOptions = {}): Uint8Array {
  const target = options.target ?? 'bpfel';
  const cflags = options.cflags ?? [];
  const text = readFileSync(source);
  const key = createHash('sha256')
    .update(text)
    .update(JSON.stringify(['toolchain-flags', target, cflags, options.keepDebug ?? false]))
    .digest('hex')
    .slice(0, 16);
  const out = join(cacheDir, 'objects', `${key}.o`);
  if (!existsSync(out)) {
    mkdirSync(join(cacheDir, 'objects'), { recursive: true });
    const tmp = `${out}.tmp${process.pid}`;
    const [resolved] = resolveTargets([target]);
    const args = clangArgs({
      target: resolved!,
      source,
      output: tmp,
      includeDirs: defaultIncludeDirs({ vmlinuxDir: vmlinuxDir() }),
      cflags,
    });
    execFileSync('clang', args, { stdio: 'pipe' });
    if (!options.keepDebug) execFileSync('llvm-strip', ['-g', tmp]);
    renameSync(tmp, out);
  }
  return new Uint8Array(readFileSync(out));
}
