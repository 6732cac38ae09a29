// Names in generated code: C identifiers become PascalCase type names and camelCase property
// names, and a NameAllocator hands out unique names in a deterministic order. Type names keep
// only ASCII letters and digits of a C name, so any name (from an untrusted object too) gives an
// identifier; property keys that are not identifiers are quoted.

import { stringLiteral } from './escape.js';

/** Splits a C identifier into words: `__u32_event_t` -> ['u32', 'event', 't'], `TCPState` -> ['TCP', 'State']. */
export function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w.length > 0);
}

/** `event_t` -> `EventT`, `task_struct` -> `TaskStruct`. */
export function pascalCase(name: string): string {
  const out = words(name)
    .map((w) => w[0]!.toUpperCase() + w.slice(1).toLowerCase())
    .join('');
  return /^[0-9]/.test(out) ? `T${out}` : out;
}

/** `uretprobe_bash_readline` -> `uretprobeBashReadline`. */
export function camelCase(name: string): string {
  const p = pascalCase(name);
  if (p === '') return p;
  const out = p[0]!.toLowerCase() + p.slice(1);
  return /^[0-9]/.test(out) ? `_${out}` : out;
}

/**
 * Global names generated code must not shadow, plus TypeScript's reserved words. A type named
 * `Map` or `Uint8Array` would break the code that uses the global of that name.
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  // TypeScript/JavaScript keywords and predefined type names.
  ...'break case catch class const continue debugger default delete do else enum export extends false finally for function if import in instanceof new null return super switch this throw true try typeof var void while with as implements interface let package private protected public static yield any boolean constructor declare get module require number set string symbol type from of bigint never unknown object undefined unique readonly keyof infer is asserts await async satisfies accessor out'.split(
    ' ',
  ),
  // Globals the generated code uses or users commonly need.
  ...'Array ArrayBuffer BigInt BigInt64Array BigUint64Array Boolean DataView Date Error Float32Array Float64Array Function Int16Array Int32Array Int8Array Iterable JSON Map Math Number Object Promise Proxy Record Reflect RegExp Set String Symbol TextDecoder TextEncoder Uint16Array Uint32Array Uint8Array Uint8ClampedArray WeakMap WeakSet Partial Readonly Required Pick Omit Exclude Extract NonNullable ReturnType InstanceType Awaited Buffer Codec RecordCodec RecordView'.split(
    ' ',
  ),
]);

/** Hands out unique identifiers: the first request for a name gets it, later ones get a suffix. */
export class NameAllocator {
  private readonly taken: Set<string>;

  constructor(reserved: Iterable<string> = RESERVED_NAMES) {
    this.taken = new Set(reserved);
  }

  /** Marks names as used without allocating them. */
  reserve(...names: string[]): void {
    for (const n of names) this.taken.add(n);
  }

  has(name: string): boolean {
    return this.taken.has(name);
  }

  /**
   * Allocates `base`, or if taken `base + suffix` (e.g. 'FooUnion'), or the first free of
   * `base2`, `base3`, ...
   */
  allocate(base: string, suffix = ''): string {
    const candidates = suffix ? [base, base + suffix] : [base];
    for (const c of candidates) {
      if (!this.taken.has(c)) {
        this.taken.add(c);
        return c;
      }
    }
    for (let i = 2; ; i++) {
      const c = `${base}${i}`;
      if (!this.taken.has(c)) {
        this.taken.add(c);
        return c;
      }
    }
  }
}

/** A property key in generated code: the C name verbatim, quoted only when it must be. */
export function propertyKey(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : stringLiteral(name, '"');
}
