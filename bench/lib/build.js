// Builds everything the benchmarks need into bench/out/ (git-ignored): vmlinux.h, the BPF objects
// (clang -target bpfel -g -O2, then llvm-strip -g, as tsbpf ships them), the C baselines (gcc +
// libbpf, built on this machine) and the skeleton header for the load benchmark. Each output is
// rebuilt only when its inputs changed (a hash of the inputs and the command kept beside it).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './harness.js';

export const benchDir = fileURLToPath(new URL('..', import.meta.url));
export const cDir = join(benchDir, 'c');
export const outDir = join(benchDir, 'out');
export const repoRoot = join(benchDir, '..');

/** Runs `make` unless `out` exists with the same key; the key covers inputs and the command. */
async function cached(out, inputs, command, make) {
  const hash = createHash('sha256').update(JSON.stringify(command));
  for (const input of inputs) hash.update(readFileSync(input));
  const key = hash.digest('hex');
  const stamp = `${out}.key`;
  if (existsSync(out) && existsSync(stamp) && readFileSync(stamp, 'utf8') === key) return out;
  // A fresh clone has no bench/out/ (git ignores it); every output is made through here.
  mkdirSync(dirname(out), { recursive: true });
  await make();
  writeFileSync(stamp, key);
  return out;
}

/** bench/out/vmlinux/vmlinux.h from this kernel's BTF (bpftool btf dump ... format c). */
export async function vmlinuxDir() {
  const dir = join(outDir, 'vmlinux');
  const header = join(dir, 'vmlinux.h');
  mkdirSync(dir, { recursive: true });
  await cached(header, ['/sys/kernel/btf/vmlinux'], ['bpftool', 'btf', 'dump'], async () => {
    const text = await run('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c']);
    writeFileSync(`${header}.tmp`, text);
    renameSync(`${header}.tmp`, header);
  });
  return dir;
}

const multiarch = ['/usr/include/x86_64-linux-gnu', '/usr/include/aarch64-linux-gnu'].filter((d) =>
  existsSync(join(d, 'asm')),
);

/** The clang arguments for a BPF object (the flags test/helpers/bpf.ts uses). */
export function bpfArgs(source, output, vmlinux, defines = []) {
  const arch = { x64: 'x86', arm64: 'arm64' }[process.arch] ?? 'x86';
  return [
    '-g',
    '-O2',
    '-target',
    'bpfel',
    `-D__TARGET_ARCH_${arch}`,
    '-I',
    vmlinux,
    ...multiarch.flatMap((d) => ['-idirafter', d]),
    ...defines.map((d) => `-D${d}`),
    '-c',
    source,
    '-o',
    output,
  ];
}

/** bench/c/<name>.bpf.c (or `source`) -> bench/out/<outName>.o, stripped of DWARF (BTF kept). */
export async function bpfObject(
  name,
  { outName = name, defines = [], source = join(cDir, `${name}.bpf.c`) } = {},
) {
  const vmlinux = await vmlinuxDir();
  const out = join(outDir, `${outName}.o`);
  const args = bpfArgs(source, `${out}.tmp`, vmlinux, defines);
  return cached(out, [source], args, async () => {
    await run('clang', args);
    await run('llvm-strip', ['-g', `${out}.tmp`]);
    renameSync(`${out}.tmp`, out);
  });
}

/** bench/c/<name>.c -> bench/out/<name> with gcc -O2 and `libs` (-lbpf). */
export async function cBinary(name, extraInputs = [], libs = ['-lbpf']) {
  const source = join(cDir, `${name}.c`);
  const out = join(outDir, name);
  const args = ['-O2', '-Wall', '-I', outDir, '-o', out, source, ...libs];
  return cached(out, [source, ...extraInputs], args, () => run('gcc', args));
}

/** bpftool gen skeleton for an object -> bench/out/<name>.skel.h. */
export async function skeleton(object, name) {
  const out = join(outDir, `${name}.skel.h`);
  return cached(out, [object], ['skeleton', name], async () => {
    writeFileSync(out, await run('bpftool', ['gen', 'skeleton', object, 'name', name]));
  });
}
