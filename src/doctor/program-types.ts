// What this user can run, per kind of program, tried for real where it leaves nothing behind: a
// two-instruction program of each type is loaded and closed (the kernel's load checks are per
// type), tracefs's events folder is listed (tracepoints are found by name there), the uprobe PMU
// is opened on a path that does not exist (its privilege check comes before the lookup), and a
// BPF output perf event is opened and closed (what a perf event array reader opens).
// What each needs was measured on Linux 6.18 as nobody with setpriv: see docs/troubleshooting.md.

import { readdirSync } from 'node:fs';
import { constants } from 'node:os';
import { errnoName, pathExists } from '../linux.js';
import { type Capability, grantHint, missingCapabilities, tracefsHint } from '../runtime/errors.js';
import { tryLoadProgram } from './bpf-syscall.js';
import { tryBpfOutputEvent, tryUprobePmu } from './perf-event.js';
import { type CheckResult, check } from './types.js';

/** enum bpf_prog_type (include/uapi/linux/bpf.h). */
const KPROBE = 2;
const SCHED_CLS = 3;
const TRACEPOINT = 5;
const XDP = 6;
const RAW_TRACEPOINT = 17;

/** One kind of program: whether it runs for this user and, when not, whether privilege is why. */
export interface ProgramTypeResult {
  /** 'tracepoint', 'uprobe/uretprobe', ... as the verdict names it. */
  kind: string;
  runs: boolean;
  /** Set when it does not run: 'privilege' (this user could be granted it) or 'kernel'. */
  blockedBy?: 'privilege' | 'kernel';
  check: CheckResult;
}

/** The probes, replaceable in tests. */
export interface ProgramTypeProbes {
  load(progType: number): number;
  /** errno of opening the uprobe PMU, undefined without one. */
  uprobePmu(): number | undefined;
  bpfOutput(): number;
  /** The tracefs events folder: 'ok', 'denied' or 'missing'. */
  tracefs(): { state: 'ok' | 'denied' | 'missing'; root: string };
  /** Whether kprobes can attach on this kernel (a kprobe PMU or kprobe_events). */
  kprobes(): boolean;
  missing(needed: readonly Capability[]): Capability[];
}

const tracefsRoots = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];

function tracefsState(): { state: 'ok' | 'denied' | 'missing'; root: string } {
  for (const root of tracefsRoots) {
    try {
      readdirSync(`${root}/events`);
      return { state: 'ok', root };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') return { state: 'denied', root };
    }
  }
  return { state: 'missing', root: tracefsRoots[0] as string };
}

/** libbpf attaches kprobes through the kprobe PMU, or the legacy kprobe_events file without one. */
function hasKprobes(): boolean {
  return [
    '/sys/bus/event_source/devices/kprobe',
    ...tracefsRoots.map((root) => `${root}/kprobe_events`),
  ].some(pathExists);
}

export const realProbes: ProgramTypeProbes = {
  load: tryLoadProgram,
  uprobePmu: () => tryUprobePmu(),
  bpfOutput: tryBpfOutputEvent,
  tracefs: tracefsState,
  kprobes: hasKprobes,
  missing: missingCapabilities,
};

const isDenied = (errno: number) => errno === constants.errno.EPERM || errno === constants.errno.EACCES;

/** Runs every program-type probe; a probe that cannot run here is reported, not thrown. */
export function checkProgramTypes(probes: ProgramTypeProbes = realProbes): ProgramTypeResult[] {
  const results: ProgramTypeResult[] = [];
  const add = (
    id: string,
    kind: string,
    run: () =>
      | { ok: true; detail: string; kernelLacks?: boolean }
      | { ok: false; why: 'privilege' | 'kernel'; detail: string; fix: string },
  ) => {
    const title = kind === 'perf event array' ? 'perf event arrays' : `${kind} programs`;
    let outcome: ReturnType<typeof run>;
    try {
      outcome = run();
    } catch (error) {
      outcome = {
        ok: false,
        why: 'kernel',
        detail: `not tested: ${(error as Error).message}`,
        fix: 'run `tsbpf doctor` on a 64-bit Linux machine',
      };
    }
    if (outcome.ok) {
      const ok = check(id, title, 'ok', outcome.detail);
      results.push(
        outcome.kernelLacks
          ? { kind, runs: false, blockedBy: 'kernel', check: ok }
          : { kind, runs: true, check: ok },
      );
      return;
    }
    results.push({
      kind,
      runs: false,
      blockedBy: outcome.why,
      check: check(id, title, 'warn', outcome.detail, outcome.fix),
    });
  };
  /** The load step of a kind: undefined when it loads, else why not. */
  const load = (progType: number, needed: Capability[]) => {
    const errno = probes.load(progType);
    if (errno === 0) return undefined;
    if (isDenied(errno)) {
      const missing = probes.missing(needed);
      const lacks = missing.length > 0 ? missing : needed;
      return {
        ok: false as const,
        why: 'privilege' as const,
        detail: `cannot load (${errnoName(errno)}): this user lacks ${lacks.join(' and ')}`,
        fix: grantHint(lacks, needed),
      };
    }
    return {
      ok: false as const,
      why: 'kernel' as const,
      detail: `the kernel refused a minimal program of this type (${errnoName(errno)})`,
      fix: 'use a kernel built with this program type (see docs/kernels.md)',
    };
  };
  const tracing: Capability[] = ['CAP_BPF', 'CAP_PERFMON'];

  add('run-raw-tracepoint', 'raw_tp', () => {
    return load(RAW_TRACEPOINT, tracing) ?? { ok: true, detail: 'loads and attaches (CAP_BPF, CAP_PERFMON)' };
  });

  add('run-tracepoint', 'tracepoint', () => {
    const refused = load(TRACEPOINT, tracing);
    if (refused) return refused;
    const tracefs = probes.tracefs();
    if (tracefs.state === 'ok')
      return { ok: true, detail: `loads, and reads tracepoint ids in ${tracefs.root}` };
    if (tracefs.state === 'denied') {
      return {
        ok: false,
        why: 'privilege',
        detail: `loads, but cannot attach: ${tracefs.root} (tracefs) is not readable by this user`,
        fix: tracefsHint,
      };
    }
    return {
      ok: false,
      why: 'kernel',
      detail: 'loads, but cannot attach: tracefs is not mounted',
      fix: 'mount -t tracefs nodev /sys/kernel/tracing',
    };
  });

  const uprobeCaps: Capability[] = ['CAP_BPF', 'CAP_PERFMON', 'CAP_SYS_ADMIN'];
  add('run-uprobe', 'uprobe/uretprobe', () => {
    const refused = load(KPROBE, tracing);
    if (refused) return refused;
    const errno = probes.uprobePmu();
    if (errno === undefined) {
      return {
        ok: false,
        why: 'kernel',
        detail: 'loads, but cannot attach: this kernel has no uprobe PMU',
        fix: 'use a kernel built with CONFIG_UPROBE_EVENTS=y',
      };
    }
    if (isDenied(errno)) {
      return {
        ok: false,
        why: 'privilege',
        detail: `loads, but cannot attach: the uprobe PMU refused this user (${errnoName(errno)}); uprobes need CAP_SYS_ADMIN, CAP_BPF and CAP_PERFMON are not enough`,
        fix: grantHint(['CAP_SYS_ADMIN'], uprobeCaps),
      };
    }
    return { ok: true, detail: 'loads, and the uprobe PMU accepts this user' };
  });

  add('run-kprobe', 'kprobe', () => {
    const refused = load(KPROBE, tracing);
    if (refused) return refused;
    if (probes.kprobes()) return { ok: true, detail: 'loads (CAP_BPF, CAP_PERFMON); the kernel has kprobes' };
    // The kernel's part is the 'kprobe support' check's warning; this line is about the user.
    return {
      ok: true,
      kernelLacks: true,
      detail: 'loads (CAP_BPF, CAP_PERFMON); attaching needs kprobe support (above)',
    };
  });

  const net: Capability[] = ['CAP_BPF', 'CAP_NET_ADMIN'];
  add(
    'run-xdp',
    'XDP',
    () => load(XDP, net) ?? { ok: true, detail: 'loads and attaches (CAP_BPF, CAP_NET_ADMIN)' },
  );
  add(
    'run-tc',
    'tc',
    () => load(SCHED_CLS, net) ?? { ok: true, detail: 'loads and attaches (CAP_BPF, CAP_NET_ADMIN)' },
  );

  add('run-perf-event-array', 'perf event array', () => {
    const errno = probes.bpfOutput();
    if (errno === 0) return { ok: true, detail: 'its reader can open BPF output events on every CPU' };
    if (isDenied(errno)) {
      const lacks = probes.missing(['CAP_PERFMON']);
      return {
        ok: false,
        why: 'privilege',
        detail: `its reader cannot open BPF output events (${errnoName(errno)}): this user lacks CAP_PERFMON`,
        fix: grantHint(lacks.length > 0 ? lacks : ['CAP_PERFMON'], tracing),
      };
    }
    return {
      ok: false,
      why: 'kernel',
      detail: `the kernel refused a BPF output event (${errnoName(errno)})`,
      fix: 'use ring buffers instead (kernel 5.8 or newer)',
    };
  });
  return results;
}
