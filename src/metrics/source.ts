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

/** The map's entries now; for a per-CPU map each value is the list of every CPU's value. */
export function readEntries<K, V>(map: MapSource<K, V>): Array<[K, V[]]> {
  const perCpu = map instanceof PerCpuHashMap || map instanceof PerCpuArrayMap;
  const out: Array<[K, V[]]> = [];
  if ('entries' in map) {
    for (const [key, value] of map.entries() as Iterable<[K, V | V[]]>) {
      out.push([key, perCpu ? (value as V[]) : [value as V]]);
    }
    return out;
  }
  for (let index = 0; index < map.length; index++) {
    const value = map.get(index);
    out.push([index as K, perCpu ? (value as V[]) : [value as V]]);
  }
  return out;
}

/** A map value as a plain number: bigint counters (u64) lose precision only past 2^53. */
export function toNumber(value: unknown, what: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  throw new TypeError(
    `${what}: expected a number or bigint, got ${value === null ? 'null' : typeof value}; pass a value(v) function that picks the counter field`,
  );
}
