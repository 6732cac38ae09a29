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

export class SymbolTable {
  readonly #starts: Float64Array;
  readonly #ends: Float64Array;
  readonly #names: string[];

  constructor(entries: SymbolEntry[]) {
    // Sort by address, the preferred alias first, then keep one entry per address.
    const sorted = entries
      .filter((e) => Number.isFinite(e.start) && e.start >= 0)
      .sort((a, b) => a.start - b.start || (b.rank ?? 0) - (a.rank ?? 0) || b.size - a.size);
    const kept = sorted.filter((e, i) => i === 0 || sorted[i - 1]!.start !== e.start);
    this.#starts = new Float64Array(kept.length);
    this.#ends = new Float64Array(kept.length);
    this.#names = new Array<string>(kept.length);
    kept.forEach((e, i) => {
      this.#starts[i] = e.start;
      this.#ends[i] = e.size > 0 ? e.start + e.size : 0;
      this.#names[i] = e.name;
    });
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
