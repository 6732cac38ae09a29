// A sorted table of named address ranges with binary search: the function symbols of one ELF file,
// or the JIT entries of a perf map. Addresses are plain numbers: user-space and ELF virtual
// addresses stay below 2^53 (x86-64 and arm64 user space ends at 2^47..2^52).

import { lastAtOrBelow } from './search.js';

export interface SymbolEntry {
  name: string;
  start: number;
  /** 0 when unknown: the symbol then reaches the next one. */
  size: number;
  /** Breaks ties between aliases at one address: higher wins (a sized global over a local label). */
  rank?: number;
}

export interface SymbolHit {
  name: string;
  offset: number;
}

// A symbol whose size ended before the address may still sit inside a larger one that starts
// earlier (nested or overlapping symbols); look back this many entries for it.
const ENCLOSING_LOOKBACK = 4;

/** Symbols as parallel columns: how large tables are handed over, without an object per symbol. */
export interface SymbolColumns {
  names: string[];
  starts: number[];
  /** 0 when unknown. */
  sizes: number[];
  /** As SymbolEntry.rank. */
  ranks: number[];
}

function toColumns(entries: readonly SymbolEntry[]): SymbolColumns {
  const columns: SymbolColumns = { names: [], starts: [], sizes: [], ranks: [] };
  for (const e of entries) {
    columns.names.push(e.name);
    columns.starts.push(e.start);
    columns.sizes.push(e.size);
    columns.ranks.push(e.rank ?? 0);
  }
  return columns;
}

export class SymbolTable {
  readonly #starts: Float64Array;
  readonly #ends: Float64Array;
  readonly #names: string[];

  constructor(symbols: readonly SymbolEntry[] | SymbolColumns) {
    const { names, starts, sizes, ranks } = Array.isArray(symbols)
      ? toColumns(symbols)
      : (symbols as SymbolColumns);
    // Sort indexes by address, the preferred alias first, then keep one symbol per address.
    const order: number[] = [];
    for (let i = 0; i < starts.length; i++) if (Number.isFinite(starts[i]) && starts[i]! >= 0) order.push(i);
    order.sort((a, b) => starts[a]! - starts[b]! || ranks[b]! - ranks[a]! || sizes[b]! - sizes[a]!);
    const kept = order.filter((index, i) => i === 0 || starts[order[i - 1]!] !== starts[index]);
    this.#starts = new Float64Array(kept.length);
    this.#ends = new Float64Array(kept.length);
    this.#names = new Array<string>(kept.length);
    for (let i = 0; i < kept.length; i++) {
      const from = kept[i]!;
      this.#starts[i] = starts[from]!;
      this.#ends[i] = sizes[from]! > 0 ? starts[from]! + sizes[from]! : 0;
      this.#names[i] = names[from]!;
    }
  }

  get size(): number {
    return this.#names.length;
  }

  /** The symbol containing `address`, or undefined (before the first, or between sized symbols). */
  lookup(address: number): SymbolHit | undefined {
    const starts = this.#starts;
    const found = lastAtOrBelow(starts.length, (i) => starts[i]! <= address);
    if (found < 0) return undefined;
    const end = this.#ends[found]!;
    // Unsized: it reaches the next symbol, which by the search starts past the address.
    if (end === 0 || address < end) return { name: this.#names[found]!, offset: address - starts[found]! };
    for (let i = found - 1; i >= 0 && i >= found - ENCLOSING_LOOKBACK; i--) {
      if (address < this.#ends[i]!) return { name: this.#names[i]!, offset: address - starts[i]! };
    }
    return undefined;
  }
}
