// Minimal BTF (src/btfgen, bpftool gen min_core_btf) and loading with it instead of the kernel's
// own BTF. In the kernel matrix the full BTF comes from the guest kernel's vmlinuz, extracted on
// the host (TSBPF_KERNELS_BTF), and the guest also hides /sys/kernel/btf to prove the load then
// depends on the minimal file alone.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import { parseBtf, readKernelBtf, readObject } from '../../src/btf/index.js';
import { generateMinimalBtf } from '../../src/btfgen/index.js';
import { type Collection, CollectionSpec } from '../../src/runtime/index.js';
import { compileFixture } from '../helpers/bpf.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

const inMatrix = process.env.TSBPF_KERNELS_GUEST === '1';
const objectBytes = compileFixture(join(repoRoot, 'test/kernels/fixtures/probes.bpf.c'));
const object = readObject(objectBytes, 'probes.bpf.o');
const getppid = koffi.load('libc.so.6').func('int getppid(void)') as () => number;
const fullBtf = process.env.TSBPF_KERNELS_BTF || '/sys/kernel/btf/vmlinux';

function bssU32(coll: Collection, name: string): number {
  const v = object.dataSections.find((s) => s.name === '.bss')!.variables.find((x) => x.name === name)!;
  const bytes = coll.dataSection('.bss')!;
  return new DataView(bytes.buffer, bytes.byteOffset + v.offset).getUint32(0, true);
}

/** The CO-RE tracepoint of probes.bpf.c alone, loaded with `kernelBtf` when given. */
async function loadCore(kernelBtf?: string): Promise<Collection> {
  const spec = CollectionSpec.fromBytes(objectBytes, { name: 'probes' });
  for (const [name, p] of spec.programs) p.autoload = name === 'core_task';
  const rodata = spec.dataSection('.rodata')!;
  const target = object.dataSections
    .find((s) => s.name === '.rodata')!
    .variables.find((x) => x.name === 'target_pid')!;
  new DataView(rodata.buffer, rodata.byteOffset).setUint32(target.offset, process.pid, true);
  return spec.load(kernelBtf ? { kernelBtf } : {});
}

async function minimalBtf(): Promise<string> {
  const dir = tempDir('tsbpf-btfgen-');
  const objectPath = join(dir, 'probes.bpf.o');
  writeFileSync(objectPath, objectBytes);
  const [result] = await generateMinimalBtf({ objects: [objectPath], kernels: [fullBtf], outDir: dir });
  return result!.output;
}

// Read before any test hides /sys/kernel/btf.
const kernelTaskSize = readKernelBtf(fullBtf).get('task_struct', 'struct').size;

async function expectCoreReads(kernelBtf?: string): Promise<void> {
  await using coll = await loadCore(kernelBtf);
  coll.program('core_task').attach();
  getppid();
  expect(bssU32(coll, 'core_tgid')).toBe(process.pid);
  expect(bssU32(coll, 'core_ppid')).toBe(process.ppid);
  expect(bssU32(coll, 'task_size')).toBe(kernelTaskSize);
}

describe('minimal BTF (btfgen)', () => {
  it('keeps only what the object relocates, at the kernel offsets', async () => {
    const path = await minimalBtf();
    const minimal = parseBtf(new Uint8Array(readFileSync(path)), { file: path });
    const kernel = readKernelBtf(fullBtf);
    const full = statSync(fullBtf).size;
    console.log(`btfgen: ${fullBtf} ${full} bytes -> ${statSync(path).size} bytes`);
    expect(statSync(path).size * 50).toBeLessThan(full);
    const task = minimal.get('task_struct', 'struct');
    const kernelTask = kernel.get('task_struct', 'struct');
    expect(task.size).toBe(kernelTask.size);
    for (const field of ['pid', 'tgid', 'real_parent']) {
      expect(minimal.member(task.id, field)?.bitOffset).toBe(kernel.member(kernelTask.id, field)?.bitOffset);
    }
    // Fields the object never touches are not carried over.
    expect(minimal.member(task.id, 'comm')).toBeUndefined();
  });

  it('loads with it as kernelBtf and reads the right fields', async () => {
    await expectCoreReads(await minimalBtf());
  });

  it("leaves an earlier output whole, and no temporary (its own or a killed run's), when bpftool fails", async () => {
    const dir = tempDir('tsbpf-btfgen-bad-');
    const objectPath = join(dir, 'probes.bpf.o');
    writeFileSync(objectPath, objectBytes);
    const kernel = join(dir, 'garbage.btf');
    writeFileSync(kernel, 'not BTF at all');
    const out = join(dir, 'out');
    mkdirSync(out);
    writeFileSync(join(out, 'garbage.btf'), 'an earlier minimal BTF');
    const killedRun = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(join(out, `.garbage.btf.tsbpf-tmp-${killedRun}-ab`), "a killed run's partial file");
    await expect(
      generateMinimalBtf({ objects: [objectPath], kernels: [kernel], outDir: out }),
    ).rejects.toThrow(/bpftool gen min_core_btf failed for .*garbage\.btf/);
    expect(readdirSync(out)).toEqual(['garbage.btf']);
    expect(readFileSync(join(out, 'garbage.btf'), 'utf8')).toBe('an earlier minimal BTF');
  });
});

// Hiding /sys/kernel/btf on the development machine would break the tests other processes run
// there at the same time; the matrix guest is a throwaway kernel.
describe.runIf(inMatrix)('with /sys/kernel/btf hidden (kernel matrix guest only)', () => {
  it('fails to load CO-RE without BTF and loads with the minimal BTF', async () => {
    const path = await minimalBtf();
    execFileSync('mount', ['-t', 'tmpfs', 'nobtf', '/sys/kernel/btf']);
    try {
      await expect(loadCore()).rejects.toThrow();
      await expectCoreReads(path);
    } finally {
      execFileSync('umount', ['/sys/kernel/btf']);
    }
  });
});
