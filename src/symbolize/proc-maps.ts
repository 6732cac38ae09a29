// A process's memory map as /proc/PID/maps prints it (fs/proc/task_mmu.c, show_map_vma()):
// "start-end perms offset major:minor inode   path", the path optional, "[vdso]"-style for the
// kernel's special mappings and suffixed " (deleted)" when the file was unlinked after mapping.

export type MappingKind = 'file' | 'vdso' | 'vsyscall' | 'anonymous' | 'special';

export interface Mapping {
  start: bigint;
  end: bigint;
  /** "r-xp" */
  perms: string;
  executable: boolean;
  /** File offset the mapping starts at. */
  offset: number;
  /** "fd:01" */
  device: string;
  inode: number;
  /** The file path (without " (deleted)"), the special name ("[heap]") or '' for anonymous memory. */
  path: string;
  deleted: boolean;
  kind: MappingKind;
}

const LINE = /^([0-9a-f]+)-([0-9a-f]+) ([-r][-w][-x][-ps]) ([0-9a-f]+) ([0-9a-f]+:[0-9a-f]+) (\d+)\s*(.*)$/;
const DELETED = ' (deleted)';

function kindOf(path: string): MappingKind {
  if (path === '') return 'anonymous';
  if (path === '[vdso]') return 'vdso';
  if (path === '[vsyscall]') return 'vsyscall';
  // [heap], [stack], [anon:name] (prctl PR_SET_VMA_ANON_NAME), [uprobes], ...
  if (path.startsWith('[')) return 'special';
  return 'file';
}

/** Every well-formed line of a maps file; lines that are not are skipped. */
export function parseProcMaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const start = BigInt(`0x${m[1]}`);
    const end = BigInt(`0x${m[2]}`);
    if (end <= start) continue;
    let path = m[7]!;
    const deleted = path.endsWith(DELETED);
    if (deleted) path = path.slice(0, -DELETED.length);
    const offset = Number.parseInt(m[4]!, 16);
    const inode = Number(m[6]);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(inode)) continue;
    out.push({
      start,
      end,
      perms: m[3]!,
      executable: m[3]![2] === 'x',
      offset,
      device: m[5]!,
      inode,
      path,
      deleted,
      kind: kindOf(path),
    });
  }
  // The kernel prints them in address order; a sorted copy keeps lookups right for any input.
  return out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

/** The mapping containing `address` (mappings sorted and disjoint, as the kernel gives them). */
export function findMapping(mappings: readonly Mapping[], address: bigint): Mapping | undefined {
  let lo = 0;
  let hi = mappings.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const m = mappings[mid]!;
    if (address < m.start) hi = mid - 1;
    else if (address >= m.end) lo = mid + 1;
    else return m;
  }
  return undefined;
}
