// Counted stacks, as profilers keep them (a hash of {pid, kernel stack id, user stack id} to a
// count or a time), symbolized once and printed two ways: folded lines that flame graph tools read
// (`comm;outer;...;inner 42`) and a top-N text view, busiest first.
import { printable } from '../printable.js';
import { type Frame, formatFrame } from './frame.js';
import type { Symbolizer } from './symbolizer.js';

/** One counted place, as a BPF program recorded it. */
export interface StackSample {
  /** The process (tgid) the stacks belong to; 0 for the idle task. */
  pid: number;
  /** The process name the program read (bpf_get_current_comm). */
  comm: string;
  /** Kernel addresses, innermost first (StackTraceMap.get); undefined when the stack was not taken. */
  kernel?: readonly bigint[];
  /** User addresses, innermost first; undefined for kernel threads and lost stacks. */
  user?: readonly bigint[];
  /** Samples, microseconds, bytes: whatever the program added up. */
  value: bigint;
}

/** A sample as profile-style programs key it: stack ids (bpf_get_stackid's result, < 0 when none) into a stack map. */
export interface StackIdSample {
  pid: number;
  comm: string;
  kernelStackId: number;
  userStackId: number;
  value: bigint;
}

/** What resolves a stack id: a StackTraceMap. */
export interface StackLookup {
  get(id: number): bigint[] | undefined;
}

/**
 * The key of a counted-stacks hash with the field names bcc's profile and offcputime give it in C
 * (`struct { __u32 pid; __s32 kernel_stack_id; __s32 user_stack_id; char comm[16]; }`): a loader
 * generated from such a struct hands its hash to `addMap` and `noticeMap` as it is.
 */
export interface StackKey {
  pid: number;
  comm: string;
  kernel_stack_id: number;
  user_stack_id: number;
}

/** A hash of such keys to samples or times: the generated `HashMap<Key, bigint>`. */
export interface StackCountMap {
  keys(): Iterable<StackKey>;
  entries(): Iterable<[StackKey, bigint]>;
}

function idSample(key: StackKey, value: bigint): StackIdSample {
  return {
    pid: key.pid,
    comm: key.comm,
    kernelStackId: key.kernel_stack_id,
    userStackId: key.user_stack_id,
    value,
  };
}

/** A sample with its frames named. */
export interface SymbolizedStack {
  pid: number;
  comm: string;
  kernel: Frame[];
  user: Frame[];
  value: bigint;
}

/** How many frames got a function name: the figure that says whether a profile can be trusted. */
export interface SymbolCoverage {
  resolved: number;
  unresolved: number;
}

/**
 * Collects samples, merges those whose stacks print the same, and symbolizes each distinct
 * stack once. Kernel frames are marked `_[k]` in folded output, as bcc's profile does.
 */
export class StackCounts {
  readonly #symbolizer: Symbolizer;
  readonly #stacks = new Map<string, SymbolizedStack>();
  readonly #coverage: SymbolCoverage = { resolved: 0, unresolved: 0 };
  readonly #noticed = new Set<string>();

  constructor(symbolizer: Symbolizer) {
    this.#symbolizer = symbolizer;
  }

  add(sample: StackSample): void {
    const kernel = sample.kernel ? this.#symbolizer.kernel(sample.kernel) : [];
    const user = sample.user && sample.pid > 0 ? this.#symbolizer.user(sample.pid, sample.user) : [];
    for (const frame of [...kernel, ...user]) {
      if (frame.symbol === undefined) this.#coverage.unresolved++;
      else this.#coverage.resolved++;
    }
    const key = `${sample.pid}\0${foldedFrames(sample.comm, kernel, user)}`;
    const known = this.#stacks.get(key);
    if (known) known.value += sample.value;
    else this.#stacks.set(key, { pid: sample.pid, comm: sample.comm, kernel, user, value: sample.value });
  }

  /**
   * Adds a sample by its stack ids. A negative id (no user stack in a kernel thread, a full stack
   * map) or one the map no longer holds adds the sample without that stack.
   */
  addIds(sample: StackIdSample, stacks: StackLookup): void {
    const lookup = (id: number) => (id >= 0 ? stacks.get(id) : undefined);
    this.add({
      pid: sample.pid,
      comm: sample.comm,
      kernel: lookup(sample.kernelStackId),
      user: lookup(sample.userStackId),
      value: sample.value,
    });
  }

  /**
   * Reads what naming a sample's user stack needs (the process's memory map and the files it
   * maps) now, without counting it. A process that exits before the samples are added can only be
   * named from what was read while it lived: call this for new samples during a long run.
   */
  notice(sample: StackIdSample, stacks: StackLookup): void {
    if (sample.pid <= 0 || sample.userStackId < 0) return;
    const key = `${sample.pid}:${sample.userStackId}`;
    if (this.#noticed.has(key)) return;
    this.#noticed.add(key);
    const user = stacks.get(sample.userStackId);
    if (user) this.#symbolizer.user(sample.pid, user);
  }

  /** Adds every entry of a counts hash, its stacks looked up in `stacks`: the end of a profile. */
  addMap(counts: StackCountMap, stacks: StackLookup): void {
    for (const [key, value] of counts.entries()) this.addIds(idSample(key, value), stacks);
  }

  /** `notice` for every key of a counts hash: call it every second or so during a profile. */
  noticeMap(counts: StackCountMap, stacks: StackLookup): void {
    for (const key of counts.keys()) this.notice(idSample(key, 0n), stacks);
  }

  /** Every distinct stack, the largest value first. */
  stacks(): SymbolizedStack[] {
    return [...this.#stacks.values()].sort((a, b) => (a.value === b.value ? 0 : a.value > b.value ? -1 : 1));
  }

  /** Frames named and not, over every sample added. */
  coverage(): SymbolCoverage {
    return { ...this.#coverage };
  }

  /** Folded lines (`comm;user outer;...;kernel inner_[k] value`), the format flamegraph.pl and speedscope read. */
  folded(): string[] {
    return this.stacks().map((s) => `${foldedFrames(s.comm, s.kernel, s.user)} ${s.value}`);
  }

  /**
   * The `top` busiest stacks as text: the value and process, then each frame, innermost first. A
   * frame without a function name says why (hidden kernel addresses, an unreadable or stripped
   * file), once per reason: a hidden kernel would say it on every line.
   */
  text(top: number, unit: string): string {
    const lines: string[] = [];
    const said = new Set<string>();
    const frameLine = (frame: Frame): string => {
      let why = '';
      if (frame.symbol === undefined && frame.reason && !said.has(frame.reason)) {
        said.add(frame.reason);
        why = `  (${frame.reason})`;
      }
      return `${' '.repeat(14)}${printable(formatFrame(frame) + why)}`;
    };
    for (const stack of this.stacks().slice(0, top)) {
      lines.push(`${String(stack.value).padStart(10)} ${unit}  ${printable(stack.comm)} [${stack.pid}]`);
      for (const frame of stack.kernel) lines.push(frameLine(frame));
      if (stack.kernel.length > 0 && stack.user.length > 0) lines.push(`${' '.repeat(14)}--`);
      for (const frame of stack.user) lines.push(frameLine(frame));
    }
    return lines.join('\n');
  }
}

/**
 * One folded frame: its name, or where it is when unnamed. Names come from other people's programs:
 * control characters are escaped and ';' (the frame separator) becomes ':'; spaces stay, as tools
 * split the count off at the last one.
 */
function foldedName(frame: Frame): string {
  const name =
    frame.symbol ?? (frame.module === undefined ? '[unknown]' : `[${frame.module.split('/').pop()}]`);
  return printable(name).replaceAll(';', ':');
}

function foldedFrames(comm: string, kernel: readonly Frame[], user: readonly Frame[]): string {
  const parts = [printable(comm).replaceAll(';', ':') || '[unknown]'];
  for (let i = user.length - 1; i >= 0; i--) parts.push(foldedName(user[i]!));
  for (let i = kernel.length - 1; i >= 0; i--) parts.push(`${foldedName(kernel[i]!)}_[k]`);
  return parts.join(';');
}
