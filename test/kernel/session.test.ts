import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readObject } from '../../src/btf/index.js';
import { readKernelBtf } from '../../src/btf/kernel.js';
import { generateLoader } from '../../src/codegen/loader.js';
import { enumConstants } from '../../src/doctor/features.js';
import { NotSupportedError, UsageError } from '../../src/errors.js';
import { libbpfVersion } from '../../src/runtime/ffi/libbpf.js';
import { ArrayMap, type Collection, CollectionSpec, u64 } from '../../src/runtime/index.js';
import { strictTypeErrors, tempProject } from '../fixtures/gen/helpers.js';
import { tempDir } from '../helpers/paths.js';
import { errorOf, fixture, getppid, intFunctions, loadErrorOf, unlinkFiles } from './helpers.js';

const bytes = fixture('session');
const object = readObject(bytes, 'session.bpf.o');
const libbpf = libbpfVersion().join('.');
const kernelConstants = enumConstants(readKernelBtf());

// enum bpf_prog_type / bpf_attach_type (include/uapi/linux/bpf.h)
const BPF_PROG_TYPE_KPROBE = 2;
const BPF_TRACE_KPROBE_SESSION = 56;
const BPF_TRACE_UPROBE_SESSION = 57;

/** Counters of session.bpf.c: entries, returns and the sum of the cookies read at return. */
const uprobeBase = 0;
const kprobeBase = 3;
const namedBase = 6;

/** A spec of session.bpf.c with only `programs` autoloaded and target_pid set to this process. */
function open(programs: string[]): CollectionSpec {
  const spec = CollectionSpec.fromBytes(bytes, { name: 'session' });
  for (const [name, p] of spec.programs) p.autoload = programs.includes(name);
  const v = object.dataSections
    .find((s) => s.name === '.rodata')
    ?.variables.find((x) => x.name === 'target_pid');
  if (!v) throw new Error('session.bpf.c: no target_pid in .rodata');
  const rodata = spec.dataSection('.rodata')!;
  new DataView(rodata.buffer, rodata.byteOffset).setUint32(v.offset, process.pid, true);
  return spec;
}

/** Whether the loaded libbpf knows a section: it gives the program a type at open. */
function libbpfKnows(program: string): boolean {
  const spec = CollectionSpec.fromBytes(bytes, { name: 'session' });
  try {
    return spec.programs.get(program)!.type !== 0;
  } finally {
    spec.close();
  }
}

/** The program typed by hand, as the libbpf that knows its section would type it. */
function typedByHand(program: string, attachType: number): CollectionSpec {
  const spec = open([program]);
  const p = spec.programs.get(program)!;
  p.type = BPF_PROG_TYPE_KPROBE;
  p.expectedAttachType = attachType;
  return spec;
}

const counters = (coll: Collection, base: number) => {
  const counts = new ArrayMap(coll.map('counts'), u64);
  return {
    entries: counts.get(base) ?? 0n,
    returns: counts.get(base + 1) ?? 0n,
    cookieSum: counts.get(base + 2) ?? 0n,
  };
};

/** Whether the kernel's BTF has the session kfuncs the fixture declares (Linux 6.10+). */
const sessionKfuncs = readFileSync('/sys/kernel/btf/vmlinux').includes(Buffer.from('\0bpf_session_cookie\0'));

/** A library of the test's own with two functions, loaded into this process. */
function sessionLibrary(): { path: string; f: (x: number) => number; g: (x: number) => number } {
  const { path, fns } = intFunctions('session', {
    tsbpf_session_f: 'return x + 1;',
    tsbpf_session_g: 'return x * 2;',
  });
  return { path, f: fns.tsbpf_session_f!, g: fns.tsbpf_session_g! };
}

describe('uprobe.session', () => {
  const knows = libbpfKnows('usession');
  const kernelHas = kernelConstants.has('BPF_TRACE_UPROBE_SESSION');

  it('runs at entry and at return; the return run reads the cookie its entry set', async (ctx) => {
    if (!knows) {
      return ctx.skip(
        `uprobe.session: libbpf ${libbpf} does not know SEC("uprobe.session") (libbpf 1.6+; run with TSBPF_LIBBPF naming a newer one)`,
      );
    }
    if (!kernelHas) {
      return ctx.skip('uprobe.session: this kernel has no BPF_TRACE_UPROBE_SESSION (Linux 6.13+)');
    }
    const { path, f, g } = sessionLibrary();
    await using coll = await open(['usession']).load();
    const program = coll.program('usession');
    const link = program.attachUprobeMulti({ binary: path, pattern: 'tsbpf_session_*', pid: process.pid });
    // Cookies x * 1000 + 7; f(13)'s entry returns 1, so it has no return run.
    expect([f(1), g(2), f(13), f(3)]).toEqual([2, 4, 14, 4]);
    expect(counters(coll, uprobeBase)).toEqual({
      entries: 4n,
      returns: 3n,
      cookieSum: 1007n + 2007n + 3007n,
    });
    link.close();
    f(4);
    expect(counters(coll, uprobeBase).entries).toBe(4n);

    const bySymbols = program.attachUprobeMulti({ binary: path, symbols: ['tsbpf_session_g'] });
    g(5);
    f(6);
    bySymbols.close();
    expect(counters(coll, uprobeBase)).toEqual({ entries: 5n, returns: 4n, cookieSum: 6021n + 5007n });

    expect(() =>
      program.attachUprobeMulti({ binary: path, pattern: 'tsbpf_session_*', retprobe: true }),
    ).toThrow(
      'program usession: attach uprobe.session: a session program runs at return as well as at entry; it takes no retprobe option',
    );
    expect(() => program.attach()).toThrow(
      'program usession: SEC("uprobe.session") names no binary, so attach() cannot attach it',
    );
  });

  it('attach() attaches a session whose section names the binary and the functions', async (ctx) => {
    if (!knows) {
      return ctx.skip(`uprobe.session: libbpf ${libbpf} does not know SEC("uprobe.session") (libbpf 1.6+)`);
    }
    if (!kernelHas)
      return ctx.skip('uprobe.session: this kernel has no BPF_TRACE_UPROBE_SESSION (Linux 6.13+)');
    await using coll = await open(['usession_named']).load();
    const link = coll.program('usession_named').attach();
    getppid();
    getppid();
    link.close();
    getppid();
    expect(counters(coll, namedBase)).toEqual({ entries: 2n, returns: 2n, cookieSum: 84n });
  });

  it.skipIf(knows)(
    'where libbpf does not know it (before 1.6), the load says which libbpf it needs',
    async () => {
      const error = await loadErrorOf(open(['usession']));
      expect(error).toBeInstanceOf(NotSupportedError);
      expect(error.message).toBe(
        `load program usession: SEC("uprobe.session") needs libbpf >= 1.6 (older ones do not know the section); this process loaded libbpf ${libbpf}`,
      );
      expect(error.hint).toContain('TSBPF_LIBBPF=/path/to/libbpf.so.1');
      expect(error.hint).toContain("optionalPrograms: 'skip-unsupported'");
    },
  );

  // Not on a kernel without the session kfuncs (6.1): libbpf 1.1 resolves every kfunc extern of
  // the object, loaded programs or not, so nothing of this object loads there.
  it.skipIf(knows)(
    'where libbpf does not know it, skip-unsupported leaves it out with that reason',
    async (ctx) => {
      if (!sessionKfuncs) ctx.skip('this kernel has no session kfuncs (bpf_session_cookie, Linux 6.10+)');
      const error = await loadErrorOf(open(['usession']));
      await using coll = await open(['usession', 'ksession']).load({ optionalPrograms: 'skip-unsupported' });
      expect(coll.skipped.map((s) => s.program)).toContain('usession');
      expect(coll.skipped.find((s) => s.program === 'usession')?.reason).toBe(error.message);
    },
  );

  it.skipIf(!knows || kernelHas)(
    'on a kernel before uprobe sessions, the load names the kernel it needs',
    async () => {
      const error = await loadErrorOf(open(['usession']));
      expect(error).toBeInstanceOf(NotSupportedError);
      expect(error.message).toBe(
        'load program usession: this kernel has no uprobe.session programs (attach type 57), which SEC("uprobe.session") is',
      );
      expect(error.hint).toContain('Linux 6.13');
    },
  );

  it.skipIf(knows || !kernelHas)(
    'typed by hand where libbpf does not know it, its attach says which libbpf has session links',
    async () => {
      await using coll = await typedByHand('usession', BPF_TRACE_UPROBE_SESSION).load();
      const error = errorOf(() =>
        coll.program('usession').attachUprobeMulti({ binary: 'libc.so.6', pattern: 'getppi?' }),
      );
      expect(error).toBeInstanceOf(NotSupportedError);
      expect(error.message).toBe(
        `program usession: attach uprobe.session: session links need libbpf >= 1.6 (bpf_uprobe_multi_opts.session); this process loaded libbpf ${libbpf}`,
      );
    },
  );
});

describe('kprobe.session', () => {
  const knows = libbpfKnows('ksession');

  it('runs at entry and at return of do_unlinkat, or says the kernel has no kprobe sessions', async (ctx) => {
    if (!knows) {
      return ctx.skip(
        `kprobe.session: libbpf ${libbpf} does not know SEC("kprobe.session") (libbpf 1.5+; run with TSBPF_LIBBPF naming a newer one)`,
      );
    }
    if (!kernelConstants.has('BPF_TRACE_KPROBE_SESSION')) {
      return ctx.skip('kprobe.session: this kernel has no BPF_TRACE_KPROBE_SESSION (Linux 6.10+)');
    }
    await using coll = await open(['ksession']).load();
    const program = coll.program('ksession');
    let link: ReturnType<typeof program.attachKprobeMulti>;
    try {
      link = program.attachKprobeMulti({ symbols: ['do_unlinkat'] });
    } catch (e) {
      expect(e).toBeInstanceOf(NotSupportedError);
      expect((e as Error).message).toBe(
        'program ksession: attach kprobe.session: this kernel has no kprobe.session links (EOPNOTSUPP)',
      );
      expect((e as NotSupportedError).hint).toContain('CONFIG_FPROBE');
      return ctx.skip(
        'kprobe.session: this kernel is built without CONFIG_FPROBE/CONFIG_KPROBES (EOPNOTSUPP)',
      );
    }
    const dir = tempDir('tsbpf-ksession-');
    unlinkFiles(dir, 3);
    link.close();
    unlinkFiles(dir, 1);
    // The cookie is the caller's pid_tgid: the main thread's tid is the pid.
    const pidTgid = (BigInt(process.pid) << 32n) | BigInt(process.pid);
    expect(counters(coll, kprobeBase)).toEqual({ entries: 3n, returns: 3n, cookieSum: 3n * pidTgid });
    expect(() => program.attachKprobeMulti({ pattern: 'do_unlinkat', retprobe: true })).toThrow(
      'program ksession: attach kprobe.session: a session program runs at return as well as at entry; it takes no retprobe option',
    );
  });

  it.skipIf(knows)(
    'where libbpf does not know it (before 1.5), the load says which libbpf it needs',
    async () => {
      const error = await loadErrorOf(open(['ksession']));
      expect(error).toBeInstanceOf(NotSupportedError);
      expect(error.message).toBe(
        `load program ksession: SEC("kprobe.session") needs libbpf >= 1.5 (older ones do not know the section); this process loaded libbpf ${libbpf}`,
      );
    },
  );

  it.skipIf(knows || !kernelConstants.has('BPF_TRACE_KPROBE_SESSION'))(
    'typed by hand where libbpf does not know it, its attach says which libbpf has session links',
    async () => {
      await using coll = await typedByHand('ksession', BPF_TRACE_KPROBE_SESSION).load();
      const error = errorOf(() => coll.program('ksession').attachKprobeMulti({ symbols: ['do_unlinkat'] }));
      expect(error).toBeInstanceOf(NotSupportedError);
      expect(error.message).toBe(
        `program ksession: attach kprobe.session: session links need libbpf >= 1.5 (bpf_kprobe_multi_opts.session); this process loaded libbpf ${libbpf}`,
      );
    },
  );

  it('attach() of a session that names no functions names the explicit call', async (ctx) => {
    if (!knows)
      return ctx.skip(`kprobe.session: libbpf ${libbpf} does not know SEC("kprobe.session") (libbpf 1.5+)`);
    if (!kernelConstants.has('BPF_TRACE_KPROBE_SESSION')) {
      return ctx.skip('kprobe.session: this kernel has no BPF_TRACE_KPROBE_SESSION (Linux 6.10+)');
    }
    await using coll = await open(['ksession']).load();
    const error = errorOf(() => coll.program('ksession').attach());
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe(
      'program ksession: SEC("kprobe.session") names no kernel functions, so attach() cannot attach it',
    );
  });
});

describe('generated loader', () => {
  it("types the session programs' attach calls (tsc --strict)", () => {
    const dir = tempProject();
    writeFileSync(join(dir, 'session_bpfel.o'), bytes);
    writeFileSync(
      join(dir, 'session.ts'),
      generateLoader(object, { ident: 'session', objects: [{ file: 'session_bpfel.o', endian: 'little' }] }),
    );
    writeFileSync(
      join(dir, 'use.ts'),
      `import { loadSession } from './session.js';
await using objs = await loadSession();
const u = objs.programs.usession.attachUprobeMulti({ binary: 'libc.so.6', pattern: 'getppi?', pid: 1 });
const k = objs.programs.ksession.attachKprobeMulti({ symbols: ['do_unlinkat'] });
u.close();
k.close();
// @ts-expect-error a uprobe session names its binary
objs.programs.usession.attachUprobeMulti({ pattern: 'f*' });
`,
    );
    expect(strictTypeErrors(dir, ['session.ts', 'use.ts'])).toEqual([]);
  });
});
