// What a metric is made of: a map, how its keys become labels and its values numbers, and the
// cap that keeps the number of series bounded. collectSeries() reads the map once and returns
// the samples grouped by label set; the Prometheus and OpenTelemetry adapters only format them.

import { UsageError } from '../errors.js';
import { addSlots, estimatedSum, type SlotBuckets, type SlotCounts } from './histogram.js';
import { forEachEntry, type MapSource, toNumber } from './source.js';

export type LabelValue = string | number | bigint | boolean;
export type Labels = Record<string, string>;

/** The label value every label of the series takes for the label sets past the cap. */
export const otherLabel = 'other';

/** The default `maxSeries`: enough for every process on a busy host, few enough for a TSDB. */
export const defaultMaxSeries = 1000;

interface MetricBase<K, V> {
  /** The metric name (Prometheus rules: [a-zA-Z_:][a-zA-Z0-9_:]*), e.g. `probe_syscalls_total`. */
  name: string;
  help: string;
  map: MapSource<K, V>;
  /** Label names, in order; `labels()` returns a value for each. */
  labelNames?: readonly string[];
  /** The labels of an entry, from the decoded key (and value): `(k, v) => ({ comm: v.comm })`. */
  labels?: (key: K, value: V) => Record<string, LabelValue>;
  /**
   * At most this many label sets are exported (default 1000); the rest are added into one
   * series whose every label is "other". A label set keeps its series while its key stays in
   * the map; new ones take the free places, largest first.
   */
  maxSeries?: number;
}

/** A counter or gauge: one number per entry (entries with equal labels are added). */
export interface ValueMetric<K, V> extends MetricBase<K, V> {
  kind: 'counter' | 'gauge';
  /** The number of an entry (default: the value itself, for number/bigint maps). Per-CPU values are added. */
  value?: (value: V, key: K) => number | bigint;
}

/** A histogram from slot counts (see log2Buckets / linearBuckets). */
export interface HistogramMetric<K, V> extends MetricBase<K, V> {
  kind: 'histogram';
  buckets: SlotBuckets;
  /**
   * The slots of an entry, for maps whose value holds a `slots[]` array (one histogram per key).
   * Without it the map is one histogram laid out as an array: key = slot index, value = count.
   */
  slots?: (value: V, key: K) => ArrayLike<number | bigint>;
  /**
   * The sum of the observed values in the exported unit, when the program keeps one (e.g. a total
   * of nanoseconds); only with `slots`. Without it the sum is estimated from the slot midpoints.
   */
  sum?: (value: V, key: K) => number | bigint;
}

// biome-ignore lint/suspicious/noExplicitAny: a list mixes metrics over maps of different key and value types
export type MapMetric<K = any, V = any> = ValueMetric<K, V> | HistogramMetric<K, V>;

export interface ValueSample {
  labels: Labels;
  value: number;
}

export interface HistogramSample extends SlotCounts {
  labels: Labels;
}

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Refuses names Prometheus would refuse, before the first scrape rather than at it. */
export function checkMetric(metric: MapMetric): void {
  if (!metricName.test(metric.name)) {
    throw new UsageError(`metric name "${metric.name}" is not a valid Prometheus name`, {
      hint: 'use letters, digits, _ and :, not starting with a digit (e.g. probe_syscalls_total)',
    });
  }
  for (const name of metric.labelNames ?? []) {
    if (!labelName.test(name) || name.startsWith('__') || name === 'le') {
      throw new UsageError(`metric ${metric.name}: label name "${name}" is not allowed`, {
        hint: 'use letters, digits and _, not starting with __, and not "le" (histogram buckets use it)',
      });
    }
  }
  if (metric.maxSeries !== undefined && !(Number.isInteger(metric.maxSeries) && metric.maxSeries >= 1)) {
    throw new UsageError(
      `metric ${metric.name}: maxSeries must be a whole number >= 1, got ${metric.maxSeries}`,
    );
  }
}

/**
 * Keeps the label sets a metric exports to at most `max`. State lives across reads so a series
 * does not hop in and out of "other" between scrapes while its key stays in the map.
 */
export class SeriesCap {
  readonly #max: number;
  #admitted = new Set<string>();
  /** Set when the last read was under the cap: then every one of its label sets was admitted. */
  #lastAll: ReadonlyMap<string, unknown> | undefined;
  constructor(max: number) {
    this.#max = max;
  }

  /**
   * Which of the label sets present now keep their own series (the others go to "other");
   * undefined means all of them. `weight` ranks new sets for the free places.
   */
  admit(
    present: ReadonlyMap<string, unknown>,
    weight: (id: string) => number,
  ): ReadonlySet<string> | undefined {
    // Under the cap (the common case) every set is admitted, and nothing needs sorting.
    if (present.size <= this.#max) {
      this.#lastAll = present; // kept by reference: copying 100k ids each scrape costs more than the read
      return undefined;
    }
    if (this.#lastAll !== undefined) {
      this.#admitted = new Set(this.#lastAll.keys());
      this.#lastAll = undefined;
    }
    for (const id of this.#admitted) if (!present.has(id)) this.#admitted.delete(id);
    const waiting = [...present.keys()]
      .filter((id) => !this.#admitted.has(id))
      .map((id) => [id, weight(id)] as const)
      .sort((a, b) => b[1] - a[1]);
    for (const [id] of waiting) {
      if (this.#admitted.size >= this.#max) break;
      this.#admitted.add(id);
    }
    return this.#admitted;
  }
}

/**
 * The labels of an entry and their identity (the values in labelNames order, NUL-separated:
 * the names are the metric's, always the same).
 */
function labelsOf<K, V>(metric: MapMetric<K, V>, key: K, value: V): { labels: Labels; id: string } {
  const names = metric.labelNames ?? [];
  if (names.length === 0) return { labels: {}, id: '' };
  const given = metric.labels?.(key, value) ?? {};
  const labels: Labels = {};
  let id = '';
  for (const name of names) {
    const v = given[name];
    if (v === undefined) {
      throw new UsageError(`metric ${metric.name}: labels() returned no value for label "${name}"`, {
        hint: `return every name of labelNames (${names.join(', ')}) from labels()`,
      });
    }
    const text = String(v);
    labels[name] = text;
    id = id === '' ? text : `${id}\u0000${text}`;
  }
  return { labels, id };
}

function otherLabels(metric: MapMetric): Labels {
  return Object.fromEntries((metric.labelNames ?? []).map((name) => [name, otherLabel]));
}

/** Applies the cap to the samples (by label set id), the rest merged into one "other" sample. */
function capped<T extends { labels: Labels }>(
  metric: MapMetric,
  cap: SeriesCap,
  groups: Map<string, T>,
  weight: (sample: T) => number,
  merge: (into: T, from: T) => void,
): T[] {
  const kept = cap.admit(groups, (id) => weight(groups.get(id)!));
  if (kept === undefined) return [...groups.values()];
  const out: T[] = [];
  let other: T | undefined;
  for (const [id, sample] of groups) {
    if (kept.has(id)) out.push(sample);
    else if (other === undefined) other = { ...sample, labels: otherLabels(metric) };
    else merge(other, sample);
  }
  if (other !== undefined) out.push(other);
  return out;
}

/** Reads a counter or gauge's map now: one sample per label set. */
export function collectValues<K, V>(metric: ValueMetric<K, V>, cap: SeriesCap): ValueSample[] {
  const groups = new Map<string, ValueSample>();
  const what = `metric ${metric.name}`;
  const pick = metric.value;
  forEachEntry(metric.map, (key, value, perCpu) => {
    let total = 0;
    if (perCpu) for (const v of value as V[]) total += toNumber(pick ? pick(v, key) : v, what);
    else total = toNumber(pick ? pick(value as V, key) : value, what);
    const { labels, id } = labelsOf(metric, key, perCpu ? (value as V[])[0]! : (value as V));
    const sample = groups.get(id);
    if (sample) sample.value += total;
    else groups.set(id, { labels, value: total });
  });
  return capped(
    metric,
    cap,
    groups,
    (s) => s.value,
    (into, from) => {
      into.value += from.value;
    },
  );
}

/** Reads a histogram's map now: per label set, per-slot counts, their total and the sum. */
export function collectHistograms<K, V>(metric: HistogramMetric<K, V>, cap: SeriesCap): HistogramSample[] {
  const slotCount = metric.buckets.bounds.length;
  const fresh = (labels: Labels): HistogramSample => ({
    labels,
    counts: new Array<number>(slotCount).fill(0),
    count: 0,
    sum: 0,
  });
  const groups = new Map<string, HistogramSample>();
  const slotsOf = metric.slots;
  if (slotsOf === undefined) {
    // The map is the histogram: entry n is slot n.
    const sample = fresh({});
    const slots: number[] = [];
    forEachEntry(metric.map, (key, value, perCpu) => {
      const what = `histogram ${metric.name} slot`;
      slots[Number(key)] = perCpu
        ? (value as V[]).reduce((s, v) => s + toNumber(v, what), 0)
        : toNumber(value, what);
    });
    addSlots(sample.counts, slots, metric.name);
    groups.set('', sample);
  } else {
    forEachEntry(metric.map, (key, value, perCpu) => {
      const values = perCpu ? (value as V[]) : [value as V];
      const { labels, id } = labelsOf(metric, key, values[0]!);
      let sample = groups.get(id);
      if (sample === undefined) {
        sample = fresh(labels);
        groups.set(id, sample);
      }
      for (const v of values) {
        addSlots(sample.counts, slotsOf(v, key), metric.name);
        if (metric.sum) sample.sum += toNumber(metric.sum(v, key), `histogram ${metric.name} sum`);
      }
    });
  }
  const samples = capped(
    metric,
    cap,
    groups,
    (s) => s.counts.reduce((a, b) => a + b, 0),
    (into, from) => {
      into.counts = into.counts.map((c, n) => c + (from.counts[n] ?? 0));
      into.sum += from.sum;
    },
  );
  for (const sample of samples) {
    sample.count = sample.counts.reduce((a, b) => a + b, 0);
    if (metric.sum === undefined) sample.sum = estimatedSum(sample.counts, metric.buckets);
  }
  return samples;
}
