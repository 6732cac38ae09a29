// Reading a typed map once per scrape: its entries with per-CPU values already summed, so the
// metric code sees one value per key whatever the map type.

import { PerCpuArrayMap, PerCpuHashMap } from '../runtime/maps.js';

/**
 * A map the metrics read: any of the runtime's typed maps (HashMap, ArrayMap, PerCpuHashMap,
 * PerCpuArrayMap, LpmTrieMap), or anything with the same `entries()` or `length`/`get()`.
 */
export type MapSource<K, V> =
  | { entries(): Iterable<[K, V]> }
  | { entries(): Iterable<[K, V[]]> }
  | { readonly length: number; get(index: number): V | V[] };

/**
 * Calls `fn` for each entry of the map now; for a per-CPU map `value` is every CPU's value
 * (`perCpu` true). A callback rather than a list: a scrape of 100 000 entries allocates less.
 */
export function forEachEntry<K, V>(
  map: MapSource<K, V>,
  fn: (key: K, value: V | V[], perCpu: boolean) => void,
): void {
  const perCpu = map instanceof PerCpuHashMap || map instanceof PerCpuArrayMap;
  if ('entries' in map) {
    for (const [key, value] of map.entries() as Iterable<[K, V | V[]]>) fn(key, value, perCpu);
    return;
  }
  for (let index = 0; index < map.length; index++) fn(index as K, map.get(index), perCpu);
}

/** A map value as a plain number: bigint counters (u64) lose precision only past 2^53. */
export function toNumber(value: unknown, what: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  throw new TypeError(
    `${what}: expected a number or bigint, got ${value === null ? 'null' : typeof value}; pass a value(v) function that picks the counter field`,
  );
}
