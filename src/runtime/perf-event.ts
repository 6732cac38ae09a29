// Perf events a SEC("perf_event") program samples on: the events by the names perf(1) gives them,
// and attachPerfEvent's options checked before anything is opened, so a mistyped event, a CPU
// this machine lacks or a process that is gone is said in the option's words.
import { readFileSync, statSync } from 'node:fs';
import { closest } from '../cli-suggest.js';
import { UsageError } from '../errors.js';
import { checkCgroup } from './cgroup.js';
import {
  ATTR_FLAG_DISABLED,
  ATTR_FLAG_FREQ,
  PERF_TYPE_HARDWARE,
  PERF_TYPE_SOFTWARE,
  type PerfEventAttrFields,
} from './ffi/perf-event.js';

/** Software events (enum perf_sw_ids in include/uapi/linux/perf_event.h): every kernel has them. */
const softwareEvents = {
  'cpu-clock': 0,
  'task-clock': 1,
  'page-faults': 2,
  'context-switches': 3,
  'cpu-migrations': 4,
  'minor-faults': 5,
  'major-faults': 6,
  'alignment-faults': 7,
  'emulation-faults': 8,
  'cgroup-switches': 11,
} as const;

/** Hardware events (enum perf_hw_id): only where the CPU's PMU is exposed (often not in a VM). */
const hardwareEvents = {
  cycles: 0,
  instructions: 1,
  'cache-references': 2,
  'cache-misses': 3,
  'branch-instructions': 4,
  'branch-misses': 5,
  'bus-cycles': 6,
  'stalled-cycles-frontend': 7,
  'stalled-cycles-backend': 8,
  'ref-cycles': 9,
} as const;

/** perf(1)'s other names for some of the events. */
const aliases = {
  'cpu-cycles': 'cycles',
  branches: 'branch-instructions',
  faults: 'page-faults',
  cs: 'context-switches',
  migrations: 'cpu-migrations',
} as const;

export type SoftwarePerfEvent = keyof typeof softwareEvents;
export type HardwarePerfEvent = keyof typeof hardwareEvents;
export type PerfEventName = SoftwarePerfEvent | HardwarePerfEvent | keyof typeof aliases;

/** The names attachPerfEvent takes, canonical ones first. */
export const perfEventNames: readonly PerfEventName[] = [
  ...(Object.keys(softwareEvents) as SoftwarePerfEvent[]),
  ...(Object.keys(hardwareEvents) as HardwarePerfEvent[]),
  ...(Object.keys(aliases) as (keyof typeof aliases)[]),
];

export interface PerfEventOptions {
  /** What to sample on, by perf(1)'s name: 'cpu-clock' (software, always there), 'cycles' (hardware), … */
  event: PerfEventName;
  /** Samples per second on each CPU (at most kernel.perf_event_max_sample_rate). Give this or samplePeriod. */
  frequency?: number;
  /** A sample every this many events (nanoseconds for cpu-clock and task-clock). Give this or frequency. */
  samplePeriod?: number | bigint;
  /** The CPUs to open the event on (default: every online CPU, /sys/devices/system/cpu/online). */
  cpus?: readonly number[];
  /** Only this process (default: every process). */
  pid?: number;
  /** Only the processes of this cgroup v2 directory, e.g. /sys/fs/cgroup/my.slice (not with pid). */
  cgroup?: string;
}

/** What opening the events needs, checked: one perf_event_open per CPU with this attr. */
export interface PerfEventPlan {
  /** The canonical name of the event. */
  event: SoftwarePerfEvent | HardwarePerfEvent;
  hardware: boolean;
  attr: PerfEventAttrFields;
  cpus: number[];
  pid?: number;
  cgroup?: string;
}

/** "0-3,8,10-11" (the kernel's cpulist format) as the CPU numbers it names. */
export function parseCpuList(text: string): number[] {
  const cpus: number[] = [];
  for (const part of text.trim().split(',')) {
    if (part === '') continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new UsageError(`cpu list '${text.trim()}': '${part}' is not a CPU number or range`);
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    for (let cpu = first; cpu <= last; cpu++) cpus.push(cpu);
  }
  return cpus;
}

/** The online CPUs (a CPU that is possible but offline cannot open events). */
export function onlineCpus(path = '/sys/devices/system/cpu/online'): number[] {
  return parseCpuList(readFileSync(path, 'utf8'));
}

/** kernel.perf_event_max_sample_rate: the highest frequency the kernel accepts (it may lower it itself). */
export function maxSampleRate(path = '/proc/sys/kernel/perf_event_max_sample_rate'): number | undefined {
  try {
    return Number.parseInt(readFileSync(path, 'utf8'), 10);
  } catch {
    return undefined;
  }
}

/** Checks attachPerfEvent's options and says what to open; a UsageError names the first bad option. */
export function planPerfEvents(what: string, options: PerfEventOptions): PerfEventPlan {
  const bad = (message: string, hint?: string) =>
    new UsageError(`${what}: ${message}`, hint === undefined ? {} : { hint });
  if (typeof options !== 'object' || options === null) {
    throw bad(
      'attachPerfEvent takes a perf event fd or options',
      "e.g. attachPerfEvent({ event: 'cpu-clock', frequency: 99 })",
    );
  }

  const event = canonicalEvent(options.event);
  if (event === undefined) {
    const typed = String(options.event);
    const guess = typeof options.event === 'string' ? closest(typed, perfEventNames) : undefined;
    throw bad(
      `event '${typed}' is not a perf event${guess ? `; did you mean '${guess}'?` : ''}`,
      `valid events: ${perfEventNames.join(', ')}`,
    );
  }
  const hardware = event in hardwareEvents;
  const config = hardware
    ? hardwareEvents[event as HardwarePerfEvent]
    : softwareEvents[event as SoftwarePerfEvent];

  const { frequency, samplePeriod } = options;
  if ((frequency === undefined) === (samplePeriod === undefined)) {
    throw bad(
      frequency === undefined
        ? 'give frequency (samples per second) or samplePeriod (events per sample)'
        : 'give frequency or samplePeriod, not both',
      `e.g. attachPerfEvent({ event: '${event}', frequency: 99 })`,
    );
  }
  let flags = ATTR_FLAG_DISABLED; // enabled by the attach, once the program is on it
  let period: bigint;
  if (frequency !== undefined) {
    if (!Number.isSafeInteger(frequency) || frequency <= 0) {
      throw bad(`frequency ${String(frequency)}: expected a whole number of samples per second, 1 or more`);
    }
    const max = maxSampleRate();
    if (max !== undefined && frequency > max) {
      throw bad(
        `frequency ${frequency}: above this kernel's limit of ${max} samples per second (kernel.perf_event_max_sample_rate)`,
        `use a lower frequency (profilers use 49 or 99), or raise the limit as root: sysctl kernel.perf_event_max_sample_rate=${frequency}`,
      );
    }
    flags |= ATTR_FLAG_FREQ;
    period = BigInt(frequency);
  } else {
    const valid =
      (typeof samplePeriod === 'bigint' && samplePeriod > 0n) ||
      (typeof samplePeriod === 'number' && Number.isSafeInteger(samplePeriod) && samplePeriod > 0);
    if (!valid)
      throw bad(`samplePeriod ${String(samplePeriod)}: expected a whole number of events, 1 or more`);
    period = BigInt(samplePeriod as number | bigint);
  }

  const online = onlineCpus();
  let cpus = online;
  if (options.cpus !== undefined) {
    if (!Array.isArray(options.cpus) || options.cpus.length === 0) {
      throw bad(
        'cpus: expected a list of CPU numbers, e.g. cpus: [0]',
        `this machine's online CPUs: ${formatCpus(online)}`,
      );
    }
    for (const cpu of options.cpus) {
      if (!Number.isSafeInteger(cpu) || !online.includes(cpu)) {
        throw bad(
          `cpus: CPU ${String(cpu)} is not online here`,
          `this machine's online CPUs: ${formatCpus(online)}`,
        );
      }
    }
    cpus = [...new Set(options.cpus)].sort((a, b) => a - b);
  }

  if (options.pid !== undefined && options.cgroup !== undefined) {
    throw bad(
      'give pid or cgroup, not both',
      'a cgroup event samples every process of the cgroup; a pid event one process',
    );
  }
  const plan: PerfEventPlan = {
    event,
    hardware,
    attr: {
      type: hardware ? PERF_TYPE_HARDWARE : PERF_TYPE_SOFTWARE,
      config: BigInt(config),
      sample_period: period,
      flags,
    },
    cpus,
  };
  if (options.pid !== undefined) {
    plan.pid = checkPid(options.pid, bad);
  }
  if (options.cgroup !== undefined) {
    plan.cgroup = checkCgroup(options.cgroup, bad);
  }
  return plan;
}

function canonicalEvent(name: unknown): SoftwarePerfEvent | HardwarePerfEvent | undefined {
  if (typeof name !== 'string') return undefined;
  if (Object.hasOwn(softwareEvents, name)) return name as SoftwarePerfEvent;
  if (Object.hasOwn(hardwareEvents, name)) return name as HardwarePerfEvent;
  if (Object.hasOwn(aliases, name)) return aliases[name as keyof typeof aliases];
  return undefined;
}

function checkPid(pid: number, bad: (message: string, hint?: string) => UsageError): number {
  if (!Number.isSafeInteger(pid) || pid <= 0) {
    throw bad(
      `pid ${String(pid)}: expected a process id (a whole number, 1 or more)`,
      'leave pid out to sample every process',
    );
  }
  try {
    statSync(`/proc/${pid}`);
  } catch {
    throw bad(
      `pid ${pid}: no such process`,
      'check the process is running (ps -p PID); leave pid out to sample every process',
    );
  }
  return pid;
}

/** 0-3,8 from [0, 1, 2, 3, 8]. */
function formatCpus(cpus: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < cpus.length; ) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === (cpus[j] as number) + 1) j++;
    parts.push(i === j ? `${cpus[i]}` : `${cpus[i]}-${cpus[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
