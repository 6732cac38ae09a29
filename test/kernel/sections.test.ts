// attach() on the SEC() names people copy from bcc, cilium/ebpf and libbpf-bootstrap, through a
// generated loader: it attaches, or says which explicit call does (never libbpf's "missing
// ':function[+offset]'"); and loads of fentry/fexit programs that fail for the kernel's reasons.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importLoader, tempProject, tsbpf, vmlinuxArgs } from '../fixtures/gen/helpers.js';
import { repoRoot } from '../helpers/paths.js';
import { getppid } from './helpers.js';

const hasKprobes = existsSync('/sys/bus/event_source/devices/kprobe');
const source = (name: string): string => join(repoRoot, 'test/fixtures/runtime', `${name}.bpf.c`);

interface Attachable {
  attach(): { close(): void };
}
interface Skipped {
  program: string;
  reason: string;
  error: Error;
}
interface Objects<P extends string> extends AsyncDisposable {
  programs: Record<P, Attachable>;
  variables: { hits: { get(): bigint } };
  skipped: Skipped[];
  close(): void;
}

/** `tsbpf gen <ident> <fixture>` in a fresh project, then the generated loader imported. */
async function generated<T>(ident: string): Promise<T> {
  const dir = tempProject();
  const result = await tsbpf(['gen', ident, source(ident), '--target', 'bpfel', ...vmlinuxArgs()], dir);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return importLoader<T>(join(dir, `${ident}.ts`));
}

/** What attach() threw: its class, message and hint. */
function attachError(program: Attachable): { kind: string; message: string; hint: string | undefined } {
  try {
    program.attach().close();
  } catch (error) {
    const e = error as Error & { hint?: string };
    return { kind: e.constructor.name, message: e.message, hint: e.hint };
  }
  throw new Error('attach() attached');
}

type SectionPrograms =
  | 'retReadline'
  | 'enterReadline'
  | 'bareUprobe'
  | 'onGetppidSyscall'
  | 'shortTp'
  | 'missingTp'
  | 'onSample'
  | 'onRequest';

describe('attach() by section name', () => {
  let objects: Objects<SectionPrograms>;

  beforeAll(async () => {
    const loader = await generated<{ loadSections(): Promise<Objects<SectionPrograms>> }>('sections');
    objects = await loader.loadSections();
    return () => objects.close();
  });

  it('uretprobe/readline (no binary): names attachUprobe with the symbol from the section', () => {
    const error = attachError(objects.programs.retReadline);
    expect(error.kind).toBe('UsageError');
    expect(error.message).toBe(
      'program ret_readline: SEC("uretprobe/readline") names the function readline but no binary, so attach() cannot attach it',
    );
    expect(error.hint).toBe(
      "attach it with attachUprobe({ binary: '/path/to/binary', symbol: 'readline', retprobe: true }), " +
        'or name the binary in the section: SEC("uretprobe//path/to/binary:readline")',
    );
    expect(error.message).not.toContain('function[+offset]');
  });

  it('uprobe/readline+0x4 keeps the offset; bare uprobe names both missing parts', () => {
    const offset = attachError(objects.programs.enterReadline);
    expect(offset.kind).toBe('UsageError');
    expect(offset.hint).toContain(
      "attachUprobe({ binary: '/path/to/binary', symbol: 'readline', offset: 0x4 })",
    );
    const bare = attachError(objects.programs.bareUprobe);
    expect(bare.message).toBe(
      'program bare_uprobe: SEC("uprobe") names no binary and no function, so attach() cannot attach it',
    );
    expect(bare.hint).toBe("attach it with attachUprobe({ binary: '/path/to/binary', symbol: 'function' })");
  });

  it('the explicit call the hint names attaches the same program', () => {
    // attachUprobe takes retprobe from the section name, as the hint's call spells out.
    const program = objects.programs.retReadline as Attachable & {
      attachUprobe(o: { binary: string; symbol: string; retprobe?: boolean }): { close(): void };
    };
    program.attachUprobe({ binary: '/bin/bash', symbol: 'readline', retprobe: true }).close();
  });

  it.skipIf(hasKprobes)(
    'ksyscall/getppid: NotSupportedError naming CONFIG_KPROBES where there are no kprobes',
    () => {
      const error = attachError(objects.programs.onGetppidSyscall);
      expect(error.kind).toBe('NotSupportedError');
      expect(error.message).toBe(
        'program on_getppid_syscall: this kernel has no kprobes, so SEC("ksyscall/getppid") cannot attach',
      );
      expect(error.hint).toContain('CONFIG_KPROBES');
    },
  );

  it.skipIf(!hasKprobes)('ksyscall/getppid attaches where the kernel has kprobes', () => {
    objects.programs.onGetppidSyscall.attach().close();
  });

  it('tp/<category>/<name> attaches and runs', () => {
    const link = objects.programs.shortTp.attach();
    try {
      const before = objects.variables.hits.get();
      for (let i = 0; i < 3; i++) getppid();
      expect(objects.variables.hits.get()).toBeGreaterThanOrEqual(before + 3n);
    } finally {
      link.close();
    }
  });

  it('tp/ naming a tracepoint the kernel lacks says so, as attachTracepoint() does', () => {
    const error = attachError(objects.programs.missingTp);
    expect(error.kind).toBe('TsbpfError');
    expect(error.message).toBe(
      'program missing_tp: tracepoint syscalls/sys_enter_no_such_call does not exist',
    );
    expect(error.hint).toContain('ls /sys/kernel/tracing/events/syscalls');
  });

  it('perf_event: names attachPerfEvent', () => {
    const error = attachError(objects.programs.onSample);
    expect(error.kind).toBe('UsageError');
    expect(error.message).toBe(
      'program on_sample: SEC("perf_event") names no perf event (its events are opened at run time), so attach() cannot attach it',
    );
    expect(error.hint).toBe(
      "attach it with attachPerfEvent({ event: 'cpu-clock', frequency: 99 }) (every CPU; pid, cgroup and cpus narrow it)",
    );
  });

  it('usdt/ without a binary: names attachUsdt() with the probe from the section', () => {
    const error = attachError(objects.programs.onRequest);
    expect(error.kind).toBe('UsageError');
    expect(error.message).toBe(
      'program on_request: SEC("usdt/myapp:request_start") names no binary, so attach() cannot attach it',
    );
    expect(error.hint).toBe(
      "attach it with attachUsdt({ binary: '/path/to/binary', provider: 'myapp', name: 'request_start' }), " +
        'or name the binary in the section: SEC("usdt//path/to/binary:myapp:request_start")',
    );
  });

  it('iter/task attaches (libbpf attaches iterators by itself)', async () => {
    const loader = await generated<{ loadIter(): Promise<Objects<'dumpTask'>> }>('iter');
    await using iter = await loader.loadIter();
    iter.programs.dumpTask.attach().close();
  });
});

describe('fentry/fexit loads the kernel refuses', () => {
  type TracingPrograms =
    | 'countUnlinks'
    | 'countMissing'
    | 'missingRawTp'
    | 'missingHook'
    | 'checkOpen'
    | 'onExec'
    | 'unlinkTp';
  let loader: {
    loadTracing(o?: { optionalPrograms?: 'skip-unsupported' }): Promise<Objects<TracingPrograms>>;
  };

  /** libbpf 1.6 and newer print errno names (-ESRCH) where older ones print numbers (-3). */
  const errnoAsNumber = (reason: string | undefined) => reason?.replace(/: -ESRCH$/, ': -3');

  beforeAll(async () => {
    loader = await generated('tracing');
  });

  it('a missing target function is named, with the libbpf line that found none', async () => {
    await using objects = await loader.loadTracing({ optionalPrograms: 'skip-unsupported' });
    const missing = objects.skipped.find((s) => s.program === 'count_missing');
    expect(missing?.error.constructor.name).toBe('NotSupportedError');
    expect(errnoAsNumber(missing?.reason)).toBe(
      'load program count_missing: this kernel has no function no_such_kernel_function_xyz for ' +
        'SEC("fexit/no_such_kernel_function_xyz") to attach to\n' +
        "  libbpf: prog 'count_missing': failed to find kernel BTF type ID of 'no_such_kernel_function_xyz': -3",
    );
    objects.programs.unlinkTp.attach().close();
  });

  it('a missing raw tracepoint (tp_btf) or LSM hook is named as such', async () => {
    await using objects = await loader.loadTracing({ optionalPrograms: 'skip-unsupported' });
    const reason = (name: string) => errnoAsNumber(objects.skipped.find((s) => s.program === name)?.reason);
    expect(reason('missing_raw_tp')).toBe(
      'load program missing_raw_tp: this kernel has no raw tracepoint no_such_tracepoint_xyz for ' +
        'SEC("tp_btf/no_such_tracepoint_xyz") to attach to\n' +
        "  libbpf: prog 'missing_raw_tp': failed to find kernel BTF type ID of 'no_such_tracepoint_xyz': -3",
    );
    expect(reason('missing_hook')).toBe(
      'load program missing_hook: this kernel has no LSM hook no_such_hook_xyz for ' +
        'SEC("lsm/no_such_hook_xyz") to attach to\n' +
        "  libbpf: prog 'missing_hook': failed to find kernel BTF type ID of 'no_such_hook_xyz': -3",
    );
    // tp_btf needs no trampoline: it loads and attach() attaches it here too.
    objects.programs.onExec.attach().close();
  });

  it('EPERM for an fentry program (whose name says nothing of fentry) is the kernel, not privileges', async () => {
    await using objects = await loader.loadTracing({ optionalPrograms: 'skip-unsupported' });
    const refused = objects.skipped.find((s) => s.program === 'count_unlinks');
    if (!refused) {
      // A kernel with BPF trampolines loads it; this machine's (no CONFIG_FUNCTION_TRACER) does not.
      objects.programs.countUnlinks.attach().close();
      return;
    }
    expect(refused.error.constructor.name).toBe('NotSupportedError');
    expect(refused.reason).toBe(
      'load program count_unlinks: the kernel refused the fentry program (SEC("fentry/do_unlinkat")) with EPERM ' +
        'although the process has CAP_BPF and CAP_PERFMON: this kernel does not run BPF trampolines',
    );
    expect(refused.reason).not.toContain('ulimit');
    const lsm = objects.skipped.find((s) => s.program === 'check_open');
    expect(lsm?.error.constructor.name).toBe('NotSupportedError');
    expect(lsm?.reason).toBe(
      'load program check_open: the kernel refused the lsm program (SEC("lsm/file_open")) with EPERM ' +
        'although the process has CAP_BPF and CAP_PERFMON: this kernel does not run BPF trampolines',
    );
  });

  it('without skip-unsupported, the load fails with the first refusal, in the same words', async () => {
    const error = await loader.loadTracing().then(
      (objects) => {
        objects.close();
        return undefined;
      },
      (e: unknown) => e as Error,
    );
    expect(error?.constructor.name).toBe('NotSupportedError');
    expect(error?.message).toMatch(
      /^load program (count_unlinks|count_missing|missing_raw_tp|missing_hook|check_open): /,
    );
  });
});
