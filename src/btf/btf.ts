// Parses .BTF blobs (object files and the kernel's vmlinux, either byte order, base or split) into
// a type graph with lazy decoding: parseBtf validates every record and remembers where each type
// starts, and a type's object (names, members) is built the first time someone asks for it. That
// keeps reading vmlinux's 100k+ types fast. Layout: include/uapi/linux/btf.h.
import { FormatError, TsbpfError } from '../errors.js';
import { StringTable } from './strings.js';
import {
  type BtfKindName,
  type BtfMember,
  type BtfType,
  type BtfTypeOfKind,
  KIND_NAMES,
  type Linkage,
  type StructType,
} from './types.js';

export interface ParseBtfOptions {
  /** Byte order; detected from the magic when omitted. */
  littleEndian?: boolean;
  /** Names the blob in error messages. */
  file?: string;
  /** The base BTF of split BTF (kernel module BTF on top of vmlinux). */
  base?: Btf;
}

const BTF_MAGIC = 0xeb9f;
const HEADER_MIN = 24;
const TYPE_HEADER = 12;
/** Bounds the typedef/qualifier/array chains followed when resolving, against cycles in corrupt input. */
const MAX_CHAIN = 64;

const LINKAGE: readonly Linkage[] = ['static', 'global', 'extern'];

/** Parses a .BTF blob. Throws FormatError naming `options.file` when it is malformed. */
export function parseBtf(bytes: Uint8Array, options: ParseBtfOptions = {}): Btf {
  return new Btf(bytes, options);
}

export class Btf {
  readonly file: string;
  readonly littleEndian: boolean;
  readonly base: Btf | undefined;
  /** Id of this blob's first type: 1, or the base's count for split BTF. */
  readonly firstId: number;
  readonly strings: StringTable;

  private readonly view: DataView;
  private readonly typeStart: number;
  /** Byte offset (within the type section) of each own type. */
  private readonly offsets: Uint32Array;
  private readonly cache: (BtfType | undefined)[];
  private nameIndex: Map<string, number[]> | undefined;

  constructor(bytes: Uint8Array, options: ParseBtfOptions = {}) {
    this.file = options.file ?? '<buffer>';
    this.base = options.base;
    this.firstId = this.base ? this.base.count : 1;
    if (bytes.length < HEADER_MIN) this.fail(`${bytes.length} bytes is shorter than a BTF header`);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const magicLe = this.view.getUint16(0, true);
    let le: boolean;
    if (magicLe === BTF_MAGIC) le = true;
    else if (magicLe === 0x9feb) le = false;
    else this.fail(`bad magic 0x${magicLe.toString(16)}`);
    if (options.littleEndian !== undefined && options.littleEndian !== le!) {
      this.fail(
        `the blob is ${le! ? 'little' : 'big'}-endian, expected ${options.littleEndian ? 'little' : 'big'}`,
      );
    }
    this.littleEndian = le!;
    const version = bytes[2];
    if (version !== 1) this.fail(`unsupported version ${version}`);
    const hdrLen = this.u32(4);
    const typeOff = this.u32(8);
    const typeLen = this.u32(12);
    const strOff = this.u32(16);
    const strLen = this.u32(20);
    if (hdrLen < HEADER_MIN || hdrLen > bytes.length) this.fail(`header length ${hdrLen} is out of range`);
    const body = bytes.length - hdrLen;
    if (typeOff > body || typeLen > body - typeOff)
      this.fail(`type section ${typeOff}+${typeLen} is out of range`);
    if (strOff > body || strLen > body - strOff)
      this.fail(`string section ${strOff}+${strLen} is out of range`);
    if (typeOff % 4 !== 0) this.fail(`type section offset ${typeOff} is not 4-byte aligned`);
    const strBytes = bytes.subarray(hdrLen + strOff, hdrLen + strOff + strLen);
    if (strLen > 0 && strBytes[strLen - 1] !== 0) this.fail('the string section does not end with NUL');
    if (!this.base && strLen > 0 && strBytes[0] !== 0)
      this.fail('the string section does not start with NUL');
    this.strings = new StringTable(strBytes, this.base ? this.base.stringsEnd : 0);
    this.typeStart = hdrLen + typeOff;
    this.offsets = this.scan(typeLen);
    this.cache = new Array(this.offsets.length);
  }

  /** One past the highest type id (base types included). */
  get count(): number {
    return this.firstId + this.offsets.length;
  }

  /** End of the string id space (base strings included). */
  get stringsEnd(): number {
    return this.strings.start + this.strings.length;
  }

  /** The string at a string-section offset (base strings included). */
  string(offset: number): string {
    if (offset < this.strings.start) return this.base!.string(offset);
    if (offset >= this.stringsEnd) this.fail(`string offset ${offset} is out of range`);
    return this.strings.get(offset);
  }

  /** The type with this id (0 is void). */
  type(id: number): BtfType {
    if (id === 0) return { id: 0, name: '', kind: 'void' };
    if (id < this.firstId) {
      if (this.base) return this.base.type(id);
    }
    const index = id - this.firstId;
    if (!Number.isInteger(id) || index < 0 || index >= this.offsets.length) {
      throw new TsbpfError(`${this.file}: no BTF type with id ${id} (ids go up to ${this.count - 1})`);
    }
    let t = this.cache[index];
    if (!t) {
      t = this.decode(id, this.typeStart + this.offsets[index]!);
      this.cache[index] = t;
    }
    return t;
  }

  /** Own types in id order (base types excluded). */
  *types(): IterableIterator<BtfType> {
    for (let id = this.firstId; id < this.count; id++) yield this.type(id);
  }

  /** Every type (this blob's and the base's) with this name, optionally of one kind, in id order. */
  find<K extends BtfKindName>(name: string, kind?: K): BtfTypeOfKind<K>[] {
    const own = this.index().get(name) ?? [];
    const found = [...(this.base ? this.base.find(name, kind) : []), ...own.map((id) => this.type(id))];
    return (kind ? found.filter((t) => t.kind === kind) : found) as BtfTypeOfKind<K>[];
  }

  /** The one type with this name and kind; TsbpfError when there is none. */
  get<K extends BtfKindName>(name: string, kind: K): BtfTypeOfKind<K> {
    const found = this.find(name, kind)[0];
    if (!found) {
      throw new TsbpfError(`${this.file}: no ${kind} named '${name}' in the BTF`, {
        hint: 'clang emits BTF only for types the program uses; check the name and that the object has BTF (-g).',
      });
    }
    return found;
  }

  /** Follows typedefs and qualifiers (const, volatile, restrict, type tags) to the underlying type. */
  resolve(id: number): BtfType {
    return this.follow(id, true);
  }

  /** Follows qualifiers only, keeping typedefs. */
  unqualified(id: number): BtfType {
    return this.follow(id, false);
  }

  /** sizeof the type in bytes (C semantics; pointers are 8 bytes in BPF). */
  sizeof(id: number): number {
    let multiplier = 1;
    let t = this.resolve(id);
    for (let i = 0; t.kind === 'array'; i++) {
      if (i > MAX_CHAIN) this.fail(`array type ${id} nests too deeply`);
      multiplier *= t.nelems;
      t = this.resolve(t.type);
    }
    switch (t.kind) {
      case 'int':
      case 'struct':
      case 'union':
      case 'enum':
      case 'enum64':
      case 'float':
      case 'datasec':
        return multiplier * t.size;
      case 'ptr':
        return multiplier * 8;
      default:
        throw new TsbpfError(`${this.file}: type ${id} (${this.describe(id)}) has no size`);
    }
  }

  /** Alignment in bytes, as libbpf computes it (btf__align_of): packed structs align to 1. */
  alignof(id: number): number {
    return this.alignAt(id, 0);
  }

  private alignAt(id: number, depth: number): number {
    if (depth > MAX_CHAIN) this.fail(`type ${id} nests too deeply (or contains itself)`);
    const t = this.resolve(id);
    switch (t.kind) {
      case 'int':
      case 'enum':
      case 'enum64':
      case 'float':
        return Math.min(t.size, 16);
      case 'ptr':
        return 8;
      case 'array':
        return this.alignAt(t.type, depth + 1);
      case 'struct':
      case 'union': {
        let align = 1;
        for (const m of t.members) {
          const a = this.alignAt(m.type, depth + 1);
          // A member off its natural alignment means the struct is packed.
          if (m.bitSize === 0 && m.bitOffset % (8 * a) !== 0) return 1;
          align = Math.max(align, a);
        }
        return t.size % align === 0 ? align : 1;
      }
      default:
        throw new TsbpfError(`${this.file}: type ${id} (${this.describe(id)}) has no alignment`);
    }
  }

  /**
   * Finds a member by name, looking into anonymous struct/union members as C does. Returns its
   * absolute bit offset from the start of `structId`.
   */
  member(structId: number, name: string): (BtfMember & { path: BtfMember[] }) | undefined {
    type Found = BtfMember & { path: BtfMember[] };
    // Corrupt BTF can make a struct contain itself: visit each type once.
    const seen = new Set<number>();
    const search = (id: number, base: number, path: BtfMember[], depth: number): Found | undefined => {
      const t = this.resolve(id);
      if ((t.kind !== 'struct' && t.kind !== 'union') || depth > MAX_CHAIN || seen.has(t.id))
        return undefined;
      seen.add(t.id);
      for (const m of t.members) {
        if (m.name === name) return { ...m, bitOffset: base + m.bitOffset, path: [...path, m] };
      }
      for (const m of t.members) {
        if (m.name !== '') continue;
        const found = search(m.type, base + m.bitOffset, [...path, m], depth + 1);
        if (found) return found;
      }
      return undefined;
    };
    return search(structId, 0, [], 0);
  }

  /** A C-like spelling of a type for messages: 'struct event', 'unsigned int *', 'char[16]'. */
  describe(id: number): string {
    // A budget of types visited keeps corrupt graphs (a prototype taking pointers to itself) cheap.
    let budget = 256;
    const go = (id: number, depth: number): string =>
      --budget < 0 || depth > MAX_CHAIN ? '...' : this.spell(id, depth, go);
    return go(id, 0);
  }

  private spell(id: number, depth: number, describe: (id: number, depth: number) => string): string {
    const t = this.type(id);
    switch (t.kind) {
      case 'void':
        return 'void';
      case 'struct':
      case 'union':
      case 'enum':
        return `${t.kind} ${t.name || '(anon)'}`;
      case 'enum64':
        return `enum ${t.name || '(anon)'}`;
      case 'fwd':
        return `${t.union ? 'union' : 'struct'} ${t.name}`;
      case 'ptr':
        return `${describe(t.type, depth + 1)} *`;
      case 'array': {
        // C spells the outer dimension first: u32[2][3] is an array of 2 arrays of 3.
        let dims = `[${t.nelems}]`;
        let elem = this.type(t.type);
        for (let i = 0; elem.kind === 'array' && i < MAX_CHAIN; i++) {
          dims += `[${elem.nelems}]`;
          elem = this.type(elem.type);
        }
        return `${describe(elem.id, depth + 1)}${dims}`;
      }
      case 'const':
      case 'volatile':
      case 'restrict':
        return `${t.kind} ${describe(t.type, depth + 1)}`;
      case 'type_tag':
        return describe(t.type, depth + 1);
      case 'func_proto':
        return `${describe(t.returnType, depth + 1)} (*)(${t.params.map((p) => describe(p.type, depth + 1)).join(', ')})`;
      default:
        return t.name || t.kind;
    }
  }

  private follow(id: number, typedefs: boolean): BtfType {
    let t = this.type(id);
    for (let i = 0; ; i++) {
      if (i > MAX_CHAIN) this.fail(`type ${id} is part of a typedef or qualifier cycle`);
      if (t.kind === 'const' || t.kind === 'volatile' || t.kind === 'restrict' || t.kind === 'type_tag') {
        t = this.type(t.type);
      } else if (typedefs && t.kind === 'typedef') {
        t = this.type(t.type);
      } else {
        return t;
      }
    }
  }

  private index(): Map<string, number[]> {
    if (this.nameIndex) return this.nameIndex;
    const index = new Map<string, number[]>();
    for (let i = 0; i < this.offsets.length; i++) {
      const nameOff = this.u32(this.typeStart + this.offsets[i]!);
      if (nameOff === 0) continue;
      const name = this.string(nameOff);
      const ids = index.get(name);
      if (ids) ids.push(this.firstId + i);
      else index.set(name, [this.firstId + i]);
    }
    this.nameIndex = index;
    return index;
  }

  private fail(what: string): never {
    throw new FormatError(`${this.file}: malformed BTF: ${what}`, {
      hint: 'Rebuild the object with clang -g (tsbpf build does this); if it is a kernel file, the kernel may be too old.',
    });
  }

  private u32(offset: number): number {
    return this.view.getUint32(offset, this.littleEndian);
  }

  /**
   * Walks the type section once: checks each record's kind, that its trailing data fits, that
   * every type id it refers to exists and every name offset is inside the string section.
   * Records are at least 12 bytes, so the walk ends within typeLen / 12 steps.
   */
  private scan(typeLen: number): Uint32Array {
    const start = this.typeStart;
    const end = start + typeLen;
    let offsets = new Uint32Array(Math.min(1024, Math.floor(typeLen / TYPE_HEADER) + 1));
    let n = 0;
    // The highest id a reference may name is unknown until the walk ends; check afterwards.
    let maxRef = 0;
    const stringsEnd = this.stringsEnd;
    const str = (off: number, what: string) => {
      if (off >= stringsEnd) this.fail(`${what}: name offset ${off} is out of range`);
    };
    const ref = (id: number) => {
      if (id > maxRef) maxRef = id;
    };
    let o = start;
    while (o < end) {
      const id = this.firstId + n;
      if (end - o < TYPE_HEADER) this.fail(`type ${id} is truncated`);
      if (n === offsets.length) {
        const grown = new Uint32Array(offsets.length * 2);
        grown.set(offsets);
        offsets = grown;
      }
      offsets[n++] = o - start;
      const nameOff = this.u32(o);
      const info = this.u32(o + 4);
      const sizeOrType = this.u32(o + 8);
      const kind = (info >>> 24) & 0x1f;
      const vlen = info & 0xffff;
      str(nameOff, `type ${id}`);
      let extra = 0;
      switch (kind) {
        case 1: // INT
          extra = 4;
          break;
        case 2: // PTR
        case 8: // TYPEDEF
        case 9: // VOLATILE
        case 10: // CONST
        case 11: // RESTRICT
        case 12: // FUNC
        case 18: // TYPE_TAG
          ref(sizeOrType);
          break;
        case 3: // ARRAY
          extra = 12;
          break;
        case 4: // STRUCT
        case 5: // UNION
        case 19: // ENUM64
        case 15: // DATASEC
          extra = 12 * vlen;
          break;
        case 6: // ENUM
        case 13: // FUNC_PROTO
          extra = 8 * vlen;
          break;
        case 14: // VAR
        case 17: // DECL_TAG
          extra = 4;
          ref(sizeOrType);
          break;
        case 7: // FWD
        case 16: // FLOAT
          break;
        default:
          this.fail(`type ${id} has unknown kind ${kind}`);
      }
      const body = o + TYPE_HEADER;
      if (extra > end - body) this.fail(`type ${id} (${KIND_NAMES[kind]}) runs past the type section`);
      switch (kind) {
        case 1: {
          const enc = this.u32(body);
          const bits = enc & 0xff;
          const bitOff = (enc >>> 16) & 0xff;
          if (![1, 2, 4, 8, 16].includes(sizeOrType)) this.fail(`int type ${id} has size ${sizeOrType}`);
          if (bits === 0 || bits + bitOff > sizeOrType * 8)
            this.fail(`int type ${id} has ${bits} bits at ${bitOff}`);
          break;
        }
        case 3:
          ref(this.u32(body));
          ref(this.u32(body + 4));
          break;
        case 4:
        case 5:
          for (let i = 0; i < vlen; i++) {
            const m = body + 12 * i;
            str(this.u32(m), `member ${i} of type ${id}`);
            ref(this.u32(m + 4));
          }
          break;
        case 6:
        case 19:
          for (let i = 0, rec = kind === 6 ? 8 : 12; i < vlen; i++)
            str(this.u32(body + rec * i), `enumerator of ${id}`);
          break;
        case 13:
          ref(sizeOrType);
          for (let i = 0; i < vlen; i++) {
            str(this.u32(body + 8 * i), `parameter ${i} of type ${id}`);
            ref(this.u32(body + 8 * i + 4));
          }
          break;
        case 15:
          for (let i = 0; i < vlen; i++) ref(this.u32(body + 12 * i));
          break;
      }
      o = body + extra;
    }
    if (maxRef >= this.firstId + n)
      this.fail(`a type refers to id ${maxRef}, but the last id is ${this.firstId + n - 1}`);
    return offsets.slice(0, n);
  }

  private decode(id: number, o: number): BtfType {
    const name = this.string(this.u32(o));
    const info = this.u32(o + 4);
    const sizeOrType = this.u32(o + 8);
    const kind = KIND_NAMES[(info >>> 24) & 0x1f]!;
    const vlen = info & 0xffff;
    const kindFlag = info >>> 31 === 1;
    const body = o + TYPE_HEADER;
    switch (kind) {
      case 'int': {
        const enc = this.u32(body);
        const encoding = (enc >>> 24) & 0xf;
        return {
          id,
          name,
          kind,
          size: sizeOrType,
          bits: enc & 0xff,
          offset: (enc >>> 16) & 0xff,
          signed: (encoding & 1) !== 0,
          char: (encoding & 2) !== 0,
          bool: (encoding & 4) !== 0,
        };
      }
      case 'ptr':
      case 'typedef':
      case 'volatile':
      case 'const':
      case 'restrict':
      case 'type_tag':
        return { id, name, kind, type: sizeOrType };
      case 'array':
        return {
          id,
          name,
          kind,
          type: this.u32(body),
          indexType: this.u32(body + 4),
          nelems: this.u32(body + 8),
        };
      case 'struct':
      case 'union': {
        const members: BtfMember[] = [];
        for (let i = 0; i < vlen; i++) {
          const m = body + 12 * i;
          const offset = this.u32(m + 8);
          members.push({
            name: this.string(this.u32(m)),
            type: this.u32(m + 4),
            bitOffset: kindFlag ? offset & 0xffffff : offset,
            bitSize: kindFlag ? offset >>> 24 : 0,
          });
        }
        const t: StructType = { id, name, kind, size: sizeOrType, members };
        if (!kindFlag) this.normaliseBitfields(t);
        return t;
      }
      case 'enum': {
        const values = [];
        for (let i = 0; i < vlen; i++) {
          const e = body + 8 * i;
          const raw = this.u32(e + 4);
          values.push({ name: this.string(this.u32(e)), value: kindFlag ? raw | 0 : raw });
        }
        return { id, name, kind, size: sizeOrType, signed: kindFlag, values };
      }
      case 'enum64': {
        const values = [];
        for (let i = 0; i < vlen; i++) {
          const e = body + 12 * i;
          const raw = (BigInt(this.u32(e + 8)) << 32n) | BigInt(this.u32(e + 4));
          values.push({ name: this.string(this.u32(e)), value: kindFlag ? BigInt.asIntN(64, raw) : raw });
        }
        return { id, name, kind, size: sizeOrType, signed: kindFlag, values };
      }
      case 'fwd':
        return { id, name, kind, union: kindFlag };
      case 'func':
        return { id, name, kind, type: sizeOrType, linkage: LINKAGE[vlen] ?? 'static' };
      case 'func_proto': {
        const params = [];
        for (let i = 0; i < vlen; i++) {
          params.push({ name: this.string(this.u32(body + 8 * i)), type: this.u32(body + 8 * i + 4) });
        }
        return { id, name, kind, returnType: sizeOrType, params };
      }
      case 'var':
        return { id, name, kind, type: sizeOrType, linkage: LINKAGE[this.u32(body)] ?? 'static' };
      case 'datasec': {
        const vars = [];
        for (let i = 0; i < vlen; i++) {
          const v = body + 12 * i;
          vars.push({ type: this.u32(v), offset: this.u32(v + 4), size: this.u32(v + 8) });
        }
        return { id, name, kind, size: sizeOrType, vars };
      }
      case 'float':
        return { id, name, kind, size: sizeOrType };
      case 'decl_tag':
        return {
          id,
          name,
          kind,
          type: sizeOrType,
          componentIndex: this.view.getInt32(body, this.littleEndian),
        };
      default:
        return this.fail(`type ${id} has kind ${kind}, which cannot appear here`);
    }
  }

  /** Old-style bitfields (kind_flag unset) carry their width in an INT member type. */
  private normaliseBitfields(t: StructType): void {
    for (const m of t.members) {
      let r: BtfType;
      try {
        r = this.resolve(m.type);
      } catch {
        continue;
      }
      if (r.kind === 'int' && (r.bits !== r.size * 8 || r.offset !== 0)) {
        m.bitSize = r.bits;
        m.bitOffset += r.offset;
      }
    }
  }
}
