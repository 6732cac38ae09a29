// Slot histograms as bcc-style tools keep them: an array of counts where slot n counts the
// values in one range (log2: [2^n, 2^(n+1)); linear: [min + n*step, min + (n+1)*step)). Prometheus
// and OpenTelemetry want upper bounds instead, Prometheus's cumulative, so this file turns one
// into the other.

import { UsageError } from '../errors.js';

/** Where each slot ends: `bounds[n]` is the upper bound of slot n, in the unit exported. */
export interface SlotBuckets {
  readonly bounds: readonly number[];
  /** Where slot 0 starts (for the sum estimated from midpoints). */
  readonly start: number;
}

/**
 * Buckets for `slots` log2 slots: slot n counts [2^n, 2^(n+1)) of the map's unit, slot 0 also
 * what is below 1 (bcc's log2l and the examples' syslat). `unit` converts the map's unit to the
 * exported one: 1e-6 turns microsecond slots into the seconds Prometheus names expect.
 */
export function log2Buckets(slots: number, options: { unit?: number } = {}): SlotBuckets {
  checkSlots(slots);
  const unit = options.unit ?? 1;
  return { bounds: Array.from({ length: slots }, (_, n) => 2 ** (n + 1) * unit), start: 0 };
}

/** Buckets for `slots` linear slots of `step` from `min` (in the map's unit, scaled by `unit`). */
export function linearBuckets(
  slots: number,
  options: { min?: number; step: number; unit?: number },
): SlotBuckets {
  checkSlots(slots);
  if (!(options.step > 0)) throw new UsageError(`linearBuckets: step must be positive, got ${options.step}`);
  const unit = options.unit ?? 1;
  const min = options.min ?? 0;
  return {
    bounds: Array.from({ length: slots }, (_, n) => (min + (n + 1) * options.step) * unit),
    start: min * unit,
  };
}

function checkSlots(slots: number): void {
  if (!Number.isInteger(slots) || slots < 1) {
    throw new UsageError(`a slot histogram needs a whole number of slots >= 1, got ${slots}`, {
      hint: 'pass the length of the C slots[] array (e.g. MAX_SLOTS)',
    });
  }
}

/** One histogram's data: per-slot counts (not cumulative), their total, and the sum of values. */
export interface SlotCounts {
  counts: number[];
  count: number;
  sum: number;
}

/**
 * Adds `slots` into `into` (per CPU, per key that shares labels). More slots than buckets is an
 * error: the bounds were declared for a different C array.
 */
export function addSlots(into: number[], slots: ArrayLike<number | bigint>, name: string): void {
  if (slots.length > into.length) {
    throw new UsageError(
      `histogram ${name}: the map holds ${slots.length} slots but the buckets declare ${into.length}`,
      { hint: `declare as many buckets as the C array has slots: log2Buckets(${slots.length})` },
    );
  }
  for (let n = 0; n < slots.length; n++) into[n] = (into[n] ?? 0) + Number(slots[n] ?? 0);
}

/** The sum of the values when the map keeps none: each count at its slot's midpoint. */
export function estimatedSum(counts: readonly number[], buckets: SlotBuckets): number {
  let sum = 0;
  let low = buckets.start;
  counts.forEach((count, n) => {
    const high = buckets.bounds[n] ?? low;
    sum += count * ((low + high) / 2);
    low = high;
  });
  return sum;
}

/** Prometheus's cumulative buckets: [le, count of values <= le], ending with +Inf = the total. */
export function cumulativeBuckets(counts: readonly number[], buckets: SlotBuckets): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  let running = 0;
  buckets.bounds.forEach((bound, n) => {
    running += counts[n] ?? 0;
    out.push([String(bound), running]);
  });
  out.push(['+Inf', running]);
  return out;
}
