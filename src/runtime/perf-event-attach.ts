// attachPerfEvent(options): one perf event per CPU, opened with perf_event_open(2), each with the
// program attached, all held by one Link. A failure on any CPU closes what the CPUs before it
// opened, and the errno becomes an error naming the event and what to do.
import { closeSync, readFileSync } from 'node:fs';
import { NotSupportedError, PermissionError, type TsbpfError } from '../errors.js';
import { errnoName } from '../linux.js';
import { openCgroup } from './cgroup.js';
import {
  callError,
  EACCES,
  EINVAL,
  ENODEV,
  ENOENT,
  EOPNOTSUPP,
  EPERM,
  ESRCH,
  grantHint,
  missingCapabilities,
  SystemCallError,
} from './errors.js';
import { libc } from './ffi/libc.js';
import { ATTR_FLAG_FREQ, PERF_FLAG_PID_CGROUP, perfEventOpen } from './ffi/perf-event.js';
import { type Link, LinkGroup } from './link.js';
import { type PerfEventOptions, type PerfEventPlan, planPerfEvents } from './perf-event.js';

const EMFILE = 24;

/** The links of one attachPerfEvent(options) call: a perf event and its program on each CPU. */
export class PerfEventLink extends LinkGroup {
  /** The event sampled (its canonical name). */
  readonly event: string;
  /** The CPUs an event was opened on. */
  readonly cpus: readonly number[];

  constructor(links: readonly Link[], event: string, cpus: readonly number[]) {
    super(links);
    this.event = event;
    this.cpus = cpus;
  }
}

/**
 * Opens the event of `options` on each CPU and attaches the program with `attach` (which owns the
 * fd once it returns). `what` names the program in errors.
 */
export function attachPerfEvents(
  what: string,
  options: PerfEventOptions,
  attach: (perfEventFd: number) => Link,
): PerfEventLink {
  const plan = planPerfEvents(what, options);
  // The kernel takes its own reference on the cgroup: the directory's fd is needed only to open.
  const cgroupFd = plan.cgroup === undefined ? -1 : openCgroup(what, plan.cgroup);
  const links: Link[] = [];
  try {
    for (const cpu of plan.cpus) {
      const fd =
        cgroupFd >= 0
          ? perfEventOpen(plan.attr, cgroupFd, cpu, PERF_FLAG_PID_CGROUP)
          : perfEventOpen(plan.attr, plan.pid ?? -1, cpu);
      if (fd < 0) throw perfEventOpenError(what, plan, cpu, -fd);
      try {
        links.push(attach(fd));
      } catch (error) {
        libc().close(fd);
        throw error;
      }
    }
  } catch (error) {
    for (const link of links) {
      try {
        link.close();
      } catch {
        // the error that stopped the attach is the one to report
      }
    }
    throw error;
  } finally {
    if (cgroupFd >= 0) closeSync(cgroupFd);
  }
  return new PerfEventLink(links, plan.event, plan.cpus);
}

/** kernel.perf_event_paranoid, or undefined when it cannot be read. */
export function perfEventParanoid(path = '/proc/sys/kernel/perf_event_paranoid'): number | undefined {
  try {
    return Number.parseInt(readFileSync(path, 'utf8'), 10);
  } catch {
    return undefined;
  }
}

/** The error for perf_event_open failing with `errno` on `cpu`. */
export function perfEventOpenError(
  what: string,
  plan: PerfEventPlan,
  cpu: number,
  errno: number,
): TsbpfError {
  const call = `${what}: open perf event ${plan.event} on CPU ${cpu}`;
  const label = errnoName(errno);
  if (plan.hardware && (errno === ENOENT || errno === EOPNOTSUPP || errno === ENODEV)) {
    return new NotSupportedError(
      `${what}: hardware event ${plan.event} is not available: this machine has no hardware PMU that counts it (perf_event_open: ${label}); virtual machines often expose none`,
      { hint: "sample a software event instead: attachPerfEvent({ event: 'cpu-clock', frequency: 99 })" },
    );
  }
  if (errno === EACCES || errno === EPERM) return perfEventPermissionError(call, label);
  if (errno === ENOENT && plan.cgroup !== undefined) {
    // The directory is a cgroup (else EBADF), but the perf_event controller has no state in it:
    // bound to a cgroup v1 hierarchy, or not usable on this kernel's cgroup v2.
    return new NotSupportedError(
      `${what}: cgroup ${plan.cgroup} has no perf_event controller on this kernel (perf_event_open: ENOENT)`,
      {
        hint: 'check /proc/cgroups and the cgroup mounts (perf_event must not be bound to a v1 hierarchy), or sample by pid',
      },
    );
  }
  if (errno === ESRCH) {
    return new SystemCallError(
      `${call}: process ${plan.pid} exited before its event was opened (ESRCH)`,
      errno,
      {
        hint: 'attach while the process runs',
      },
    );
  }
  if (errno === EMFILE) {
    return new SystemCallError(`${call}: too many open files (EMFILE): each CPU's event takes one`, errno, {
      hint: `raise the limit (ulimit -n), or sample fewer CPUs with cpus: [...] (${plan.cpus.length} asked for)`,
    });
  }
  if (errno === EINVAL && ((plan.attr.flags ?? 0n) & ATTR_FLAG_FREQ) !== 0n) {
    return callError(call, errno, [
      'the kernel refused the event settings; it lowers kernel.perf_event_max_sample_rate by itself when samples take too long, so try a lower frequency',
    ]);
  }
  return callError(call, errno, [], undefined, ['CAP_PERFMON']);
}

/**
 * EACCES/EPERM from perf_event_open: kernel.perf_event_paranoid above -1 keeps events of every
 * process (and, at 2, of the kernel) for CAP_PERFMON (kernel/events/core.c: perf_allow_cpu/kernel).
 */
function perfEventPermissionError(call: string, label: string): PermissionError {
  const paranoid = perfEventParanoid();
  if (paranoid !== undefined && paranoid >= 3) {
    // Levels above 2 exist only in Debian's and Ubuntu's kernels (CONFIG_SECURITY_PERF_EVENTS_RESTRICT,
    // their default): every perf_event_open without CAP_SYS_ADMIN is refused, CAP_PERFMON or not.
    return new PermissionError(
      `${call}: permission denied (${label}): kernel.perf_event_paranoid is ${paranoid}, a level of Debian's and Ubuntu's kernels that refuses perf events to any process without CAP_SYS_ADMIN (CAP_PERFMON is not enough)`,
      {
        hint: 'as root, sysctl kernel.perf_event_paranoid=2 (the upstream default: CAP_PERFMON then suffices), or run with CAP_SYS_ADMIN',
      },
    );
  }
  const setting =
    paranoid === undefined ? 'kernel.perf_event_paranoid' : `kernel.perf_event_paranoid is ${paranoid}`;
  const lacks = missingCapabilities(['CAP_PERFMON']).length > 0;
  if (lacks) {
    return new PermissionError(
      `${call}: permission denied (${label}): the process lacks CAP_PERFMON, and ${setting} (above -1, only CAP_PERFMON may sample every process and the kernel)`,
      {
        hint: `${grantHint(['CAP_PERFMON'], ['CAP_BPF', 'CAP_PERFMON'])}; or, as root, sysctl kernel.perf_event_paranoid=-1 (lets every user profile the whole machine)`,
      },
    );
  }
  return new PermissionError(`${call}: permission denied (${label}) with CAP_PERFMON (${setting})`, {
    hint: 'a security module (SELinux, AppArmor) or lockdown refused it: check the audit log',
  });
}
