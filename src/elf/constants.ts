// ELF constants tsbpf needs, from the System V gABI and include/uapi/linux/elf.h.

export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const ELFDATA2MSB = 2;

/** e_machine of eBPF objects (EM_BPF in include/uapi/linux/elf-em.h). */
export const EM_BPF = 247;

export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;

// Section types (sh_type).
export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOBITS = 8;
export const SHT_NOTE = 7;
export const SHT_REL = 9;
export const SHT_DYNSYM = 11;

// Section flags (sh_flags).
export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;

// Symbol types (low nibble of st_info) and bindings (high nibble).
export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;
/** A function whose address a resolver picks at load time (glibc's memcpy, strlen, ...). */
export const STT_GNU_IFUNC = 10;
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;

// Special section indexes.
export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;

// Program header types (p_type) and flags (p_flags).
export const PT_LOAD = 1;
export const PT_NOTE = 4;
export const PF_X = 0x1;
/** e_phnum when the real count is in section 0's sh_info (gABI "Extended Program Header Numbering"). */
export const PN_XNUM = 0xffff;

/** The note holding a build-id (elf.h NT_GNU_BUILD_ID, owner "GNU"). */
export const NT_GNU_BUILD_ID = 3;
