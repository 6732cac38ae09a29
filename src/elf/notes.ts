// ELF notes (Elf64_Nhdr records in SHT_NOTE sections and PT_NOTE segments), and the one tsbpf
// reads from them: the GNU build-id that names a binary independently of its path.
import { NT_GNU_BUILD_ID, PT_NOTE, SHT_NOTE } from './constants.js';
import type { ElfFile } from './elf.js';

export interface ElfNote {
  /** The owner, e.g. "GNU" (without its NUL). */
  name: string;
  type: number;
  desc: Uint8Array;
}

const NHDR_SIZE = 12;
const align4 = (n: number): number => (n + 3) & ~3;

/** The notes in `bytes`; a truncated or malformed record ends the list (notes are advisory). */
export function parseNotes(bytes: Uint8Array, littleEndian: boolean): ElfNote[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: ElfNote[] = [];
  let o = 0;
  // Each record advances o by at least NHDR_SIZE, so the loop ends.
  while (o + NHDR_SIZE <= bytes.length) {
    const namesz = view.getUint32(o, littleEndian);
    const descsz = view.getUint32(o + 4, littleEndian);
    const type = view.getUint32(o + 8, littleEndian);
    const nameAt = o + NHDR_SIZE;
    const descAt = nameAt + align4(namesz);
    const end = descAt + align4(descsz);
    if (namesz > bytes.length || descsz > bytes.length || descAt + descsz > bytes.length) break;
    let nameEnd = nameAt + namesz;
    if (namesz > 0 && bytes[nameEnd - 1] === 0) nameEnd--;
    out.push({
      name: String.fromCharCode(...bytes.subarray(nameAt, nameEnd)),
      type,
      desc: bytes.subarray(descAt, descAt + descsz),
    });
    o = end;
  }
  return out;
}

/** The GNU build-id as lower-case hex, from the note sections or (without section headers) PT_NOTE segments. */
export function buildId(elf: ElfFile): string | undefined {
  const areas: Uint8Array[] = [];
  for (const s of elf.sections) if (s.type === SHT_NOTE) areas.push(elf.data(s));
  if (areas.length === 0) {
    for (const p of elf.segments) {
      if (p.type === PT_NOTE && p.offset + p.filesz <= elf.bytes.length) {
        areas.push(elf.bytes.subarray(p.offset, p.offset + p.filesz));
      }
    }
  }
  for (const area of areas) {
    for (const note of parseNotes(area, elf.littleEndian)) {
      if (note.type === NT_GNU_BUILD_ID && note.name === 'GNU' && note.desc.length > 0) {
        return Buffer.from(note.desc).toString('hex');
      }
    }
  }
  return undefined;
}
