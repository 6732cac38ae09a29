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
const isCodeType = (c: number): boolean => c === 0x74 || c === 0x54 || c === 0x77 || c === 0x57;

// Kernel symbols carry no size: one reaches the next. Past this distance the nearest symbol
// is a guess (the end of the text, a gap between modules), so it is not offered.
const MAX_OFFSET = 1 << 20;
const SPACE = 0x20;

/** The 8 hex digits at `at` as a u32, or -1 when one is not a hex digit. */
function hexWord(text: string, at: number): number {
  let value = 0;
  for (let i = at; i < at + 8; i++) {
    const c = text.charCodeAt(i);
    let digit: number;
    if (c >= 0x30 && c <= 0x39) digit = c - 0x30;
    else if ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66) digit = (c | 0x20) - 0x57;
    else return -1;
    value = value * 16 + digit;
  }
  return value;
}

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
      const line = at;
      at = end + 1;
      // "ffffffff81000000 T _text": 16 hex digits, a space, the type, a space, the name. Read in
      // place with char codes: a slice and parseInt per line cost more than the rest together.
      if (end - line < 20 || text.charCodeAt(line + 16) !== SPACE || text.charCodeAt(line + 18) !== SPACE)
        continue;
      const hi = hexWord(text, line);
      const lo = hexWord(text, line + 8);
      if (hi < 0 || lo < 0) continue;
      lines++;
      if (hi !== 0 || lo !== 0) nonZero = true;
      if (!isCodeType(text.charCodeAt(line + 17))) continue;
      // The rest of the line: "name" or "name\t[module]".
      const rest = text.slice(line + 19, end);
      const tab = rest.indexOf('\t');
      const name = tab < 0 ? rest.trimEnd() : rest.slice(0, tab);
      if (!name) continue;
      let module = -1;
      if (tab >= 0 && rest[tab + 1] === '[') {
        const close = rest.indexOf(']', tab + 2);
        if (close > 0) {
          const m = rest.slice(tab + 2, close);
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
    const count = his.length;
    const order = new Uint32Array(count);
    for (let i = 0; i < count; i++) order[i] = i;
    order.sort((a, b) => his[a]! - his[b]! || los[a]! - los[b]!);
    // Plain loops: TypedArray.from with a mapping function is several times slower here.
    this.#hi = new Uint32Array(count);
    this.#lo = new Uint32Array(count);
    this.#names = new Array<string>(count);
    this.#modules = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const from = order[i]!;
      this.#hi[i] = his[from]!;
      this.#lo[i] = los[from]!;
      this.#names[i] = names[from]!;
      this.#modules[i] = moduleOf[from]!;
    }
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
