// Reads what tsbpf needs to know about a compiled eBPF object: its BTF and line info, its
// BTF-defined maps, its programs (functions in executable sections other than .text, as libbpf
// counts them in bpf_object__add_programs) and its global variables by data section.

import {
  EM_BPF,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHN_LORESERVE,
  SHT_NOBITS,
  SHT_PROGBITS,
  STB_GLOBAL,
  STB_WEAK,
  STT_FUNC,
} from '../elf/constants.js';
import { type ElfFile, type ElfSymbol, parseElf } from '../elf/elf.js';
import { FormatError } from '../errors.js';
import { type Btf, parseBtf } from './btf.js';
import { type LineInfoTable, parseBtfExt } from './ext.js';
import { type MapInfo, readMaps } from './maps.js';

export interface ProgramInfo {
  /** The C function name. */
  name: string;
  /** The SEC() name, e.g. 'uretprobe//bin/bash:readline'. */
  section: string;
  /** Byte offset of the function in its section. */
  offset: number;
  insnCount: number;
  /** Global (or weak) rather than static. */
  global: boolean;
  /** The BTF FUNC type id, when the object's BTF has it. */
  funcType?: number;
}

export interface VariableInfo {
  name: string;
  /** Byte offset in the section. */
  offset: number;
  size: number;
  /** BTF type id of the variable's type (not the VAR). */
  type: number;
  linkage: 'static' | 'global' | 'extern';
}

export interface DataSectionInfo {
  /** '.rodata', '.data', '.bss', '.data.custom', ... */
  name: string;
  size: number;
  readonly: boolean;
  /** Initial contents (zeros for .bss). */
  data: Uint8Array;
  variables: VariableInfo[];
}

export interface ObjectInfo {
  elf: ElfFile;
  btf: Btf;
  lineInfo: LineInfoTable | undefined;
  littleEndian: boolean;
  maps: MapInfo[];
  programs: ProgramInfo[];
  dataSections: DataSectionInfo[];
}

const DATA_SECTION = /^\.(rodata|data|bss)(\..+)?$/;

/** Parses an eBPF object's ELF, .BTF and .BTF.ext. FormatError when it has no BTF. */
export function readObject(bytes: Uint8Array, file = '<buffer>'): ObjectInfo {
  const elf = parseElf(bytes, file);
  if (elf.machine !== EM_BPF) {
    throw new FormatError(`${file}: not an eBPF object (ELF machine ${elf.machine}, expected ${EM_BPF})`, {
      hint: 'Compile the program with clang -target bpf (tsbpf build does this).',
    });
  }
  const btfSection = elf.section('.BTF');
  if (!btfSection) {
    throw new FormatError(`${file}: the object has no .BTF section`, {
      hint: 'Compile with clang -g (tsbpf build does, and strips only DWARF).',
    });
  }
  const btf = parseBtf(elf.data(btfSection), { file: `${file} (.BTF)`, littleEndian: elf.littleEndian });
  const extSection = elf.section('.BTF.ext');
  const lineInfo = extSection ? parseBtfExt(elf.data(extSection), btf, `${file} (.BTF.ext)`) : undefined;

  const symbols = elf.symbols();
  const programs: ProgramInfo[] = [];
  for (const sym of symbols) {
    if (sym.type !== STT_FUNC || sym.sectionIndex === 0 || sym.sectionIndex >= SHN_LORESERVE) continue;
    const section = elf.sections[sym.sectionIndex]!;
    if ((section.flags & SHF_EXECINSTR) === 0 || section.name === '.text') continue;
    const func = btf.find(sym.name, 'func')[0];
    programs.push({
      name: sym.name,
      section: section.name,
      offset: sym.value,
      insnCount: Math.floor(sym.size / 8),
      global: sym.bind === STB_GLOBAL || sym.bind === STB_WEAK,
      ...(func ? { funcType: func.id } : {}),
    });
  }
  programs.sort((a, b) => (a.section === b.section ? a.offset - b.offset : a.section < b.section ? -1 : 1));

  return {
    elf,
    btf,
    lineInfo,
    littleEndian: elf.littleEndian,
    maps: readMaps(btf),
    programs,
    dataSections: readDataSections(elf, btf, symbols),
  };
}

function readDataSections(elf: ElfFile, btf: Btf, symbols: ElfSymbol[]): DataSectionInfo[] {
  const out: DataSectionInfo[] = [];
  const bySection = new Map<string, ElfSymbol>();
  for (const s of symbols) bySection.set(`${s.sectionIndex}:${s.name}`, s);
  for (const section of elf.sections) {
    if (!DATA_SECTION.test(section.name) || (section.flags & SHF_ALLOC) === 0) continue;
    if (section.type !== SHT_PROGBITS && section.type !== SHT_NOBITS) continue;
    // String literals (.rodata.str1.1) have no DATASEC and no variables; libbpf loads them too.
    const variables: VariableInfo[] = [];
    const datasec = btf.find(section.name, 'datasec')[0];
    if (datasec) {
      for (const v of datasec.vars) {
        const variable = btf.type(v.type);
        if (variable.kind !== 'var') continue;
        // Object files may carry offset 0 for every variable (libbpf fixes them up from the
        // symbol table in btf_fixup_datasec); the symbol's value is authoritative.
        const sym = bySection.get(`${section.index}:${variable.name}`);
        const offset = sym ? sym.value : v.offset;
        const size = v.size || btf.sizeof(variable.type);
        if (offset + size > section.size) {
          throw new FormatError(
            `${elf.file}: variable ${variable.name} (${offset}+${size}) lies outside ${section.name}`,
          );
        }
        variables.push({ name: variable.name, offset, size, type: variable.type, linkage: variable.linkage });
      }
      variables.sort((a, b) => a.offset - b.offset);
    }
    // The section becomes one map value, whose size is a u32; a .bss is not backed by file bytes,
    // so this is all that bounds it.
    if (section.size > 0xffffffff) {
      throw new FormatError(
        `${elf.file}: ${section.name} is ${section.size} bytes, more than a map value can hold`,
      );
    }
    const common = {
      name: section.name,
      size: section.size,
      readonly: (section.flags & 0x1) === 0,
      variables,
    };
    out.push(section.type === SHT_NOBITS ? withLazyZeros(common) : { ...common, data: elf.data(section) });
  }
  return out;
}

/** A .bss's zeros, allocated when first read: a parse must not cost the section's size in memory. */
function withLazyZeros(section: Omit<DataSectionInfo, 'data'>): DataSectionInfo {
  let zeros: Uint8Array | undefined;
  return {
    ...section,
    get data() {
      zeros ??= new Uint8Array(section.size);
      return zeros;
    },
  };
}
