// The kernel's symbol table as /proc/kallsyms prints it (kernel/kallsyms.c, s_show():
// "%px %c %s\t[%s]", the bracket only for modules, BPF programs and trampolines).
// Kernel addresses exceed 2^53, so each is kept as two u32 halves: searching those costs no
// allocation per step, where a BigUint64Array makes a bigint on every read (bench/benchmarks/symbolize.js).

import { lastAtOrBelow } from './search.js';

export interface KernelSymbol {
  name: string;
  offset: number;
  /** The module column (`ext4`, `bpf`), undefined for the kernel image. */
  module?: string;
}

// Text symbols (t/T) and weak ones (w/W, mostly functions in the kernel); data symbols
// would only catch addresses that are not code.
const CODE_TYPES = new Set(['t', 'T', 'w', 'W']);

// Kernel symbols carry no size: one reaches the next. Past this distance the nearest symbol
// is a guess (the end of the text, a gap between modules), so it is not offered.
const MAX_OFFSET = 1 << 20;
const HEX = /^[0-9a-fA-F]{16}$/;

export class KernelSymbols {
  /** True when every address read as zero: kptr_restrict (or a missing CAP_SYSLOG) hides them. */
  readonly hidden: boolean;
  readonly #hi: Uint32Array;
  readonly #lo: Uint32Array;
  readonly #names: string[];
  readonly #modules: Int32Array;
  readonly #moduleNames: string[];

  constructor(text: string) {
    const his: number[] = [];
    const los: number[] = [];
    const names: string[] = [];
    const moduleOf: number[] = [];
    const moduleNames: string[] = [];
    const moduleIndex = new Map<string, number>();
    let lines = 0;
    let nonZero = false;
    let at = 0;
    while (at < text.length) {
      let end = text.indexOf('\n', at);
      if (end < 0) end = text.length;
      const line = text.slice(at, end);
      at = end + 1;
      // "ffffffff81000000 T _text" at least: 16 hex digits, a space, the type, a space, a name.
      const firstSpace = line.indexOf(' ');
      if (firstSpace < 1 || firstSpace > 16 || line.length < firstSpace + 4 || line[firstSpace + 2] !== ' ')
        continue;
      const hex = line.slice(0, firstSpace).padStart(16, '0');
      if (!HEX.test(hex)) continue;
      const hi = Number.parseInt(hex.slice(0, 8), 16);
      const lo = Number.parseInt(hex.slice(8), 16);
      lines++;
      if (hi !== 0 || lo !== 0) nonZero = true;
      if (!CODE_TYPES.has(line[firstSpace + 1]!)) continue;
      const rest = line.slice(firstSpace + 3);
      const tab = rest.indexOf('\t');
      const name = tab < 0 ? rest.trimEnd() : rest.slice(0, tab);
      if (!name) continue;
      let module = -1;
      if (tab >= 0) {
        const bracket = /^\[([^\]]*)\]/.exec(rest.slice(tab + 1).trim());
        if (bracket) {
          const m = bracket[1]!;
          let index = moduleIndex.get(m);
          if (index === undefined) {
            index = moduleNames.push(m) - 1;
            moduleIndex.set(m, index);
          }
          module = index;
        }
      }
      his.push(hi);
      los.push(lo);
      names.push(name);
      moduleOf.push(module);
    }
    this.hidden = lines > 0 && !nonZero;
    // The kernel prints the image sorted, then modules and BPF programs by load order.
    const order = his.map((_, i) => i);
    order.sort((a, b) => his[a]! - his[b]! || los[a]! - los[b]!);
    this.#hi = Uint32Array.from(order, (i) => his[i]!);
    this.#lo = Uint32Array.from(order, (i) => los[i]!);
    this.#names = order.map((i) => names[i]!);
    this.#modules = Int32Array.from(order, (i) => moduleOf[i]!);
    this.#moduleNames = moduleNames;
  }

  get size(): number {
    return this.#names.length;
  }

  /** The function containing `address` (the nearest symbol at or below it), or undefined. */
  lookup(address: bigint): KernelSymbol | undefined {
    if (this.hidden || address < 0n || address > 0xffffffffffffffffn) return undefined;
    const hi = Number(address >> 32n);
    const lo = Number(address & 0xffffffffn);
    const his = this.#hi;
    const los = this.#lo;
    const found = lastAtOrBelow(his.length, (i) => his[i]! < hi || (his[i] === hi && los[i]! <= lo));
    if (found < 0) return undefined;
    const offset = (hi - his[found]!) * 0x1_0000_0000 + (lo - los[found]!);
    if (offset >= MAX_OFFSET) return undefined;
    const m = this.#modules[found]!;
    const symbol: KernelSymbol = { name: this.#names[found]!, offset };
    if (m >= 0) symbol.module = this.#moduleNames[m];
    return symbol;
  }
}
