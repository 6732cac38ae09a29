// kprobe/kretprobe and fentry/fexit attaches, and CO-RE reads, on whatever kernel runs the test.
// The development machine's kernel has no kprobes and refuses fentry, so those cases skip there
// (named in the skip); the kernel matrix (test/kernels/run) runs this file on other kernels,
// where TSBPF_KERNELS_GUEST=1 turns every skip into a failure.
import { existsSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import koffi from 'koffi';
import { afterAll, describe, expect, it } from 'vitest';
import { readKernelBtf, readObject } from '../../src/btf/index.js';
import { ArrayMap, type Collection, CollectionSpec, u64 } from '../../src/runtime/index.js';
import { compileFixture } from '../helpers/bpf.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

const inMatrix = process.env.TSBPF_KERNELS_GUEST === '1';
const objectBytes = compileFixture(join(repoRoot, 'test/kernels/fixtures/probes.bpf.c'));
const object = readObject(objectBytes, 'probes.bpf.o');
const libc = koffi.load('libc.so.6');
const getppid = libc.func('int getppid(void)') as () => number;

const KPROBE = 0;
const KRETPROBE = 1;
const FENTRY = 2;
const FEXIT = 3;

/** A spec of probes.bpf.c with only `programs` autoloaded and target_pid set to this process. */
function open(programs: string[]): CollectionSpec {
  const spec = CollectionSpec.fromBytes(objectBytes, { name: 'probes' });
  for (const [name, p] of spec.programs) p.autoload = programs.includes(name);
  const rodata = spec.dataSection('.rodata')!;
  new DataView(rodata.buffer, rodata.byteOffset).setUint32(
    variable('.rodata', 'target_pid').offset,
    process.pid,
    true,
  );
  return spec;
}

function variable(section: string, name: string) {
  const v = object.dataSections.find((s) => s.name === section)?.variables.find((x) => x.name === name);
  if (!v) throw new Error(`probes.bpf.c: no ${name} in ${section}`);
  return v;
}

/** A global of the loaded collection, read through its live .data/.bss mapping. */
function read(coll: Collection, section: string, name: string): DataView {
  const v = variable(section, name);
  const bytes = coll.dataSection(section)!;
  return new DataView(bytes.buffer, bytes.byteOffset + v.offset, v.size);
}

function readString(coll: Collection, name: string): string {
  const view = read(coll, '.bss', name);
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(bytes.subarray(0, end < 0 ? bytes.length : end));
}

/** Creates and unlinks a file (unlink(2) -> do_unlinkat), `times` times; returns the last path. */
function unlinkFiles(times: number): string {
  const dir = tempDir('tsbpf-probes-');
  let path = '';
  for (let i = 0; i < times; i++) {
    path = join(dir, `victim-${i}`);
    writeFileSync(path, 'x');
    unlinkSync(path);
  }
  return path;
}

/** unlink(2) of a missing file: do_unlinkat returns -ENOENT. */
function unlinkMissing(): void {
  expect(() => unlinkSync(join(tempDir('tsbpf-probes-'), 'missing'))).toThrow(/ENOENT/);
}

// The kprobe PMU (perf_event type "kprobe") exists when the kernel has CONFIG_KPROBES and
// kprobe events; libbpf attaches through it.
const haveKprobes = existsSync('/sys/bus/event_source/devices/kprobe');

// fentry needs BPF trampolines (CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS); this machine's kernel
// refuses the load with EPERM. Probed by loading the fentry program alone.
async function probeFentry(): Promise<boolean> {
  try {
    const coll = await open(['fentry_unlinkat']).load();
    coll.close();
    return true;
  } catch (e) {
    if ((e as { errno?: number }).errno === 1 || /EPERM|not permitted/.test(String(e))) return false;
    throw e;
  }
}
const haveFentry = inMatrix || (await probeFentry());

describe.skipIf(!haveKprobes && !inMatrix)(
  'kprobe and kretprobe (kernel without CONFIG_KPROBES skips)',
  () => {
    it('counts do_unlinkat calls and sees the path and the return value', async () => {
      await using coll = await open(['kprobe_unlinkat', 'kretprobe_unlinkat']).load();
      coll.program('kprobe_unlinkat').attach();
      coll.program('kretprobe_unlinkat').attachKprobe({ symbol: 'do_unlinkat', retprobe: true });
      const counts = new ArrayMap(coll.map('counts'), u64);
      const last = unlinkFiles(3);
      expect(counts.get(KPROBE)).toBe(3n);
      expect(counts.get(KRETPROBE)).toBe(3n);
      expect(readString(coll, 'kprobe_name')).toBe(last);
      expect(read(coll, '.data', 'kretprobe_ret').getBigInt64(0, true)).toBe(0n);
      unlinkMissing();
      expect(counts.get(KRETPROBE)).toBe(4n);
      expect(read(coll, '.data', 'kretprobe_ret').getBigInt64(0, true)).toBe(-2n);
    });

    it('stops counting when the links close', async () => {
      await using coll = await open(['kprobe_unlinkat']).load();
      const link = coll.program('kprobe_unlinkat').attachKprobe({ symbol: 'do_unlinkat' });
      const counts = new ArrayMap(coll.map('counts'), u64);
      unlinkFiles(2);
      link.close();
      unlinkFiles(2);
      expect(counts.get(KPROBE)).toBe(2n);
    });
  },
);

describe.skipIf(!haveFentry)('fentry and fexit (kernel that refuses fentry with EPERM skips)', () => {
  it('counts do_unlinkat calls with typed arguments and the return value', async () => {
    await using coll = await open(['fentry_unlinkat', 'fexit_unlinkat']).load();
    coll.program('fentry_unlinkat').attach();
    coll.program('fexit_unlinkat').attachTrace();
    const counts = new ArrayMap(coll.map('counts'), u64);
    const last = unlinkFiles(3);
    expect(counts.get(FENTRY)).toBe(3n);
    expect(counts.get(FEXIT)).toBe(3n);
    expect(readString(coll, 'fentry_name')).toBe(last);
    expect(read(coll, '.data', 'fexit_ret').getBigInt64(0, true)).toBe(0n);
    unlinkMissing();
    expect(counts.get(FEXIT)).toBe(4n);
    expect(read(coll, '.data', 'fexit_ret').getBigInt64(0, true)).toBe(-2n);
  });
});

describe('CO-RE relocations against the running kernel', () => {
  const kernel = readKernelBtf();
  const kernelTask = kernel.get('task_struct', 'struct');
  const objectTask = object.btf.get('task_struct', 'struct');
  const offset = (btf: typeof kernel, id: number, field: string) => btf.member(id, field)!.bitOffset / 8;

  afterAll(() => {
    // One line per kernel in the matrix log: what the object was compiled with, what it ran with.
    console.log(
      `task_struct on ${process.env.TSBPF_KERNELS_GUEST ? 'guest' : 'host'}: size ${kernelTask.size} (object: ${objectTask.size}), ` +
        `pid @${offset(kernel, kernelTask.id, 'pid')} (object: @${offset(object.btf, objectTask.id, 'pid')}), ` +
        `real_parent @${offset(kernel, kernelTask.id, 'real_parent')} (object: @${offset(object.btf, objectTask.id, 'real_parent')})`,
    );
  });

  it('reads task_struct fields at this kernel offsets, whatever the object was compiled against', async () => {
    await using coll = await open(['core_task']).load();
    coll.program('core_task').attach();
    getppid();
    const u32 = (name: string) => read(coll, '.bss', name).getUint32(0, true);
    expect(u32('core_tgid')).toBe(process.pid);
    expect(u32('core_pid')).toBe(process.pid);
    expect(u32('core_ppid')).toBe(process.ppid);
    expect(u32('has_pid')).toBe(1);
    expect(u32('task_size')).toBe(kernelTask.size);
    expect(u32('pid_offset')).toBe(offset(kernel, kernelTask.id, 'pid'));
    expect(u32('tgid_offset')).toBe(offset(kernel, kernelTask.id, 'tgid'));
    expect(u32('real_parent_offset')).toBe(offset(kernel, kernelTask.id, 'real_parent'));
  });
});
