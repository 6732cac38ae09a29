// A kernel's BTF from the files a distribution ships: vmlinux (ELF, BTF in its .BTF section) or
// vmlinuz (an x86 bzImage whose payload is a compressed vmlinux). The payload is found by its
// compression magic, as the kernel's scripts/extract-vmlinux does, and unpacked by the
// matching command-line tool (xz, zstd, gzip), since Node's zlib reads neither xz nor (on 20) zstd.

import { readFile, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import { FormatError, ToolchainError } from '../errors.js';
import { parseElf } from '../elf/index.js';

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

function btfSection(elfBytes: Uint8Array, file: string): Uint8Array | undefined {
  const elf = parseElf(elfBytes, file);
  const section = elf.section('.BTF');
  return section ? elf.data(section) : undefined;
}

/** Writes the BTF of a vmlinux or vmlinuz `kernel` to `out`. */
export async function extractKernelBtf(kernel: string, out: string): Promise<ExtractedBtf> {
  const bytes = new Uint8Array(await readFile(kernel));
  if (ELF_MAGIC.every((b, i) => bytes[i] === b)) {
    const btf = btfSection(bytes, kernel);
    if (!btf) throw new FormatError(`${kernel}: no .BTF section`, { hint: 'the kernel was built without CONFIG_DEBUG_INFO_BTF' });
    await writeFile(out, btf);
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
      await writeFile(out, btf);
      return { path: out, size: btf.length, from: payload.from };
    }
  }
  throw new FormatError(`${kernel}: neither an ELF vmlinux nor a bzImage with an xz, zstd or gzip payload`, {
    hint: 'pass the vmlinux or vmlinuz file of the kernel (e.g. /boot/vmlinuz-<version>)',
  });
}
