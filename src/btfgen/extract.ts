// A kernel's BTF from the files a distribution ships: vmlinux (ELF, BTF in its .BTF section) or
// vmlinuz (an x86 bzImage whose payload is a compressed vmlinux). The payload is found by its
// compression magic, as the kernel's scripts/extract-vmlinux does, and unpacked by the
// matching command-line tool (xz, zstd, gzip), since Node's zlib reads neither xz nor (on 20) zstd.

import { readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { writeFileAtomic } from '../atomic.js';
import { FormatError, ToolchainError } from '../errors.js';

export interface ExtractedBtf {
  /** Where the raw BTF was written. */
  path: string;
  /** Its size in bytes. */
  size: number;
  /** 'elf' for a vmlinux, else the compression of the bzImage payload. */
  from: 'elf' | 'xz' | 'zstd' | 'gzip';
}

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];
// Compression magics as in scripts/extract-vmlinux (xz stream header, zstd frame, gzip+deflate).
const PAYLOADS: { from: 'xz' | 'zstd' | 'gzip'; magic: number[]; command: string[] }[] = [
  { from: 'xz', magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], command: ['xz', '-dc', '--single-stream'] },
  { from: 'zstd', magic: [0x28, 0xb5, 0x2f, 0xfd], command: ['zstd', '-dc'] },
  { from: 'gzip', magic: [0x1f, 0x8b, 0x08], command: ['gzip', '-dc'] },
];

function indexesOf(bytes: Uint8Array, magic: number[]): number[] {
  const found: number[] = [];
  let at = bytes.indexOf(magic[0]!);
  while (at >= 0 && found.length < 16) {
    if (magic.every((b, i) => bytes[at + i] === b)) found.push(at);
    at = bytes.indexOf(magic[0]!, at + 1);
  }
  return found;
}

/**
 * The .BTF section of a little- or big-endian ELF64 vmlinux. Read here from the section headers
 * directly (layout from include/uapi/linux/elf.h, Elf64_Ehdr/Elf64_Shdr): src/elf is for BPF
 * objects and rightly refuses a kernel's section addresses (0xffffffff8...) as out of range.
 */
function btfSection(elf: Uint8Array, file: string): Uint8Array | undefined {
  if (elf[4] !== 2) throw new FormatError(`${file}: not a 64-bit ELF`);
  const view = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const le = elf[5] === 1;
  const shoff = Number(view.getBigUint64(0x28, le));
  const shentsize = view.getUint16(0x3a, le);
  const shnum = view.getUint16(0x3c, le);
  const shstrndx = view.getUint16(0x3e, le);
  const header = (i: number) => {
    const at = shoff + i * shentsize;
    if (at + 0x40 > elf.length)
      throw new FormatError(`${file}: section header ${i} is past the end of the file`);
    return {
      name: view.getUint32(at, le),
      offset: Number(view.getBigUint64(at + 0x18, le)),
      size: Number(view.getBigUint64(at + 0x20, le)),
    };
  };
  const strings = header(shstrndx);
  const decoder = new TextDecoder();
  for (let i = 1; i < shnum; i++) {
    const h = header(i);
    const start = strings.offset + h.name;
    const end = elf.indexOf(0, start);
    if (decoder.decode(elf.subarray(start, end)) !== '.BTF') continue;
    if (h.offset + h.size > elf.length) throw new FormatError(`${file}: .BTF runs past the end of the file`);
    return elf.subarray(h.offset, h.offset + h.size);
  }
  return undefined;
}

/** Writes the BTF of a vmlinux or vmlinuz `kernel` to `out`. */
export async function extractKernelBtf(kernel: string, out: string): Promise<ExtractedBtf> {
  const bytes = new Uint8Array(await readFile(kernel));
  if (ELF_MAGIC.every((b, i) => bytes[i] === b)) {
    const btf = btfSection(bytes, kernel);
    if (!btf)
      throw new FormatError(`${kernel}: no .BTF section`, {
        hint: 'the kernel was built without CONFIG_DEBUG_INFO_BTF',
      });
    writeFileAtomic(out, btf);
    return { path: out, size: btf.length, from: 'elf' };
  }
  // A magic can also occur by chance inside the bzImage: try each hit until one unpacks to an ELF.
  for (const payload of PAYLOADS) {
    for (const offset of indexesOf(bytes, payload.magic)) {
      const [command, ...args] = payload.command;
      let result: Awaited<ReturnType<typeof execa>>;
      try {
        result = await execa(command!, args, {
          input: Buffer.from(bytes.subarray(offset)),
          encoding: 'buffer',
          reject: false,
          maxBuffer: 1 << 30,
        });
      } catch (cause) {
        throw new ToolchainError(`${command} could not be run to unpack ${kernel}`, {
          hint: `install it (apt-get install ${command === 'xz' ? 'xz-utils' : command})`,
          cause,
        });
      }
      const vmlinux = new Uint8Array(result.stdout as Uint8Array);
      if (!ELF_MAGIC.every((b, i) => vmlinux[i] === b)) continue;
      const btf = btfSection(vmlinux, `${kernel} (unpacked)`);
      if (!btf) {
        throw new FormatError(`${kernel}: its vmlinux has no .BTF section`, {
          hint: 'the kernel was built without CONFIG_DEBUG_INFO_BTF; use BTF from btfhub or the debug package',
        });
      }
      writeFileAtomic(out, btf);
      return { path: out, size: btf.length, from: payload.from };
    }
  }
  throw new FormatError(`${kernel}: neither an ELF vmlinux nor a bzImage with an xz, zstd or gzip payload`, {
    hint: 'pass the vmlinux or vmlinuz file of the kernel (e.g. /boot/vmlinuz-<version>)',
  });
}
