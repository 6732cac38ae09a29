// A BTF string section. Decoding 100k+ names one TextDecoder call at a time is the slowest part of
// reading vmlinux BTF, so the whole section is decoded once as latin1 (one native call) and names
// are sliced out of that string; only names with non-ASCII bytes are decoded again as UTF-8.
import { Buffer } from 'node:buffer';

const utf8 = new TextDecoder('utf-8');

export class StringTable {
  private text: string | undefined;
  private hasNonAscii = false;

  constructor(
    /** The raw section. */
    readonly bytes: Uint8Array,
    /** Offset of this table's first byte in the id space (non-zero for split BTF). */
    readonly start = 0,
  ) {}

  get length(): number {
    return this.bytes.length;
  }

  /** The string at `offset` (relative to `start`), '' past the end is the caller's to check. */
  get(offset: number): string {
    const rel = offset - this.start;
    let text = this.text;
    if (text === undefined) {
      text = Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength).toString('latin1');
      this.text = text;
      this.hasNonAscii = /[\x80-\xff]/.test(text);
    }
    let end = text.indexOf('\0', rel);
    if (end < 0) end = text.length;
    const s = text.substring(rel, end);
    if (this.hasNonAscii && /[\x80-\xff]/.test(s)) return utf8.decode(this.bytes.subarray(rel, end));
    return s;
  }
}
