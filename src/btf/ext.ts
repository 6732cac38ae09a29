// .BTF.ext: per-section func_info and line_info, which map instruction offsets back to functions
// and to source file:line:column. Layout: struct btf_ext_header, bpf_func_info and bpf_line_info
// in include/uapi/linux/bpf.h and tools/lib/bpf/libbpf_internal.h (btf_ext_info_sec). In object
// files the instruction offsets are in bytes; here they are converted to instruction indexes.
import { FormatError } from '../errors.js';
import type { Btf } from './btf.js';

export interface FuncInfo {
  /** ELF section of the function. */
  section: string;
  /** Instruction index within the section. */
  insn: number;
  /** The BTF FUNC type id. */
  type: number;
  name: string;
}

export interface LineInfo {
  section: string;
  /** Instruction index within the section. */
  insn: number;
  file: string;
  line: number;
  column: number;
  /** The source line's text as clang recorded it ('' when it did not). */
  text: string;
}

export interface LineInfoTable {
  /** Sections that have line info, in file order. */
  readonly sections: string[];
  funcs(section: string): FuncInfo[];
  /** Line records of a section, sorted by instruction. */
  lines(section: string): LineInfo[];
  /** The line record covering instruction `insn` of `section` (the last one at or before it). */
  lookup(section: string, insn: number): LineInfo | undefined;
}

const BPF_INSN_SIZE = 8;

/** Parses .BTF.ext against its .BTF (for strings and func names). */
export function parseBtfExt(bytes: Uint8Array, btf: Btf, file = btf.file): LineInfoTable {
  const fail = (what: string): never => {
    throw new FormatError(`${file}: malformed .BTF.ext: ${what}`, {
      hint: 'Rebuild the object with clang -g (tsbpf build does this).',
    });
  };
  if (bytes.length < 24) fail(`${bytes.length} bytes is shorter than its header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = btf.littleEndian;
  if (view.getUint16(0, le) !== 0xeb9f) fail('bad magic (or a byte order other than the .BTF section)');
  const u32 = (o: number) => view.getUint32(o, le);
  const hdrLen = u32(4);
  if (hdrLen < 24 || hdrLen > bytes.length) fail(`header length ${hdrLen} is out of range`);

  // Each sub-section: u32 record size, then per ELF section {name_off, num_info, records...}.
  const walk = (
    off: number,
    len: number,
    what: string,
    minRec: number,
    each: (sec: string, rec: number) => void,
  ) => {
    if (len === 0) return;
    const start = hdrLen + off;
    if (off > bytes.length || len > bytes.length - start || len < 4)
      fail(`${what} ${off}+${len} is out of range`);
    const end = start + len;
    const recSize = u32(start);
    if (recSize < minRec || recSize % 4 !== 0) fail(`${what} record size ${recSize} is invalid`);
    let o = start + 4;
    // Each section header is 8 bytes, so this loop runs at most len / 8 times.
    while (o < end) {
      if (end - o < 8) fail(`${what} section header is truncated`);
      const sec = btf.string(u32(o));
      const count = u32(o + 4);
      o += 8;
      if (count > (end - o) / recSize) fail(`${what} for ${sec}: ${count} records do not fit`);
      for (let i = 0; i < count; i++, o += recSize) each(sec, o);
    }
  };

  const funcs = new Map<string, FuncInfo[]>();
  const lines = new Map<string, LineInfo[]>();
  const order: string[] = [];
  const note = (sec: string) => {
    if (!order.includes(sec)) order.push(sec);
  };
  walk(u32(8), u32(12), 'func_info', 8, (section, o) => {
    note(section);
    const type = u32(o + 4);
    let name = '';
    try {
      name = btf.type(type).name;
    } catch {
      fail(`func_info refers to type ${type}`);
    }
    const list = funcs.get(section) ?? [];
    list.push({ section, insn: u32(o) / BPF_INSN_SIZE, type, name });
    funcs.set(section, list);
  });
  walk(u32(16), u32(20), 'line_info', 16, (section, o) => {
    note(section);
    const lineCol = u32(o + 12);
    const list = lines.get(section) ?? [];
    list.push({
      section,
      insn: u32(o) / BPF_INSN_SIZE,
      file: btf.string(u32(o + 4)),
      line: lineCol >>> 10,
      column: lineCol & 0x3ff,
      text: btf.string(u32(o + 8)),
    });
    lines.set(section, list);
  });
  for (const list of lines.values()) list.sort((a, b) => a.insn - b.insn);

  return {
    sections: order,
    funcs: (section) => funcs.get(section) ?? [],
    lines: (section) => lines.get(section) ?? [],
    lookup(section, insn) {
      const list = lines.get(section);
      if (!list || list.length === 0) return undefined;
      // Binary search for the last record with record.insn <= insn.
      let lo = 0;
      let hi = list.length - 1;
      if (list[0]!.insn > insn) return undefined;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (list[mid]!.insn <= insn) lo = mid;
        else hi = mid - 1;
      }
      return list[lo];
    },
  };
}
