// What a symbolized address is, and how tools print one.

/** One symbolized stack address. Fields a lookup could not fill stay undefined, and `reason` says why. */
export interface Frame {
  /** The address as the stack trace gave it. */
  address: bigint;
  /** The function containing the address. */
  symbol?: string;
  /** Bytes from the start of `symbol` to the address. */
  offset?: number;
  /** A kernel module (`ext4`, `bpf`), or the file an address of a process maps to. */
  module?: string;
  /**
   * The address as the ELF file sees it (its p_vaddr space, what `nm`, `objdump` and
   * `addr2line -e FILE` use), set for user addresses in file-backed mappings.
   */
  moduleAddress?: number;
  /** The GNU build-id of `module`, as lower-case hex, when the file has one. */
  buildId?: string;
  /** Why the frame lacks a symbol or module (kernel addresses hidden, process exited, stripped binary, ...). */
  reason?: string;
}

const hex = (n: number | bigint): string => `0x${n.toString(16)}`;

/** The last path component, as tools print a library (`libc.so.6`). */
function baseName(module: string): string {
  const slash = module.lastIndexOf('/');
  return slash < 0 ? module : module.slice(slash + 1);
}

/**
 * A frame as profilers print it: `func+0x1a [module]` with a symbol, `0x7f3a... [libc.so.6+0x2b1c]`
 * without one, the bare address when nothing is known. The kernel image itself has no module.
 */
export function formatFrame(frame: Frame): string {
  const where = frame.module === undefined ? '' : baseName(frame.module);
  // Special mappings ([vdso], [anon:name]) already carry their brackets.
  const bracket = (text: string): string => (text.startsWith('[') ? text : `[${text}]`);
  if (frame.symbol !== undefined) {
    const at = frame.offset ? `${frame.symbol}+${hex(frame.offset)}` : frame.symbol;
    return where ? `${at} ${bracket(where)}` : at;
  }
  if (!where) return hex(frame.address);
  return frame.moduleAddress === undefined
    ? `${hex(frame.address)} ${bracket(where)}`
    : `${hex(frame.address)} [${where}+${hex(frame.moduleAddress)}]`;
}
