// Pins of maps declared with `__uint(pinning, LIBBPF_PIN_BY_NAME)`. libbpf reuses whatever it finds
// at <pin root>/<map name> (bpf_object__reuse_map in libbpf.c: bpf_obj_get, a compatibility check
// of type and sizes, nothing about who made it), and bpffs is mounted 1777 by default
// (kernel/bpf/inode.c), so on such a mount any user can plant a pin where root's map goes: a map of
// their own that root's programs then fill (readable and writable by its owner), or a directory
// that makes root's load fail with a bare EACCES. Before load, each existing pin must be a map pin
// owned by this process's euid; after load, each pin must still be the map the programs use (a pin
// planted between the check and libbpf's own bpf_obj_get is caught there, before anything runs).
import { lstatSync, readFileSync, type Stats, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { TsbpfError, type TsbpfErrorOptions } from '../errors.js';
import { describeUser } from '../linux.js';
import { debug } from '../output.js';
import { libbpf, type Pointer } from './ffi/libbpf.js';
import { libc } from './ffi/libc.js';

/** A pin path holds something this process must not reuse: another user's pin, or not a map. */
export class PinError extends TsbpfError {
  override name = 'PinError';
  readonly path: string;
  constructor(message: string, path: string, options: TsbpfErrorOptions = {}) {
    super(message, options);
    this.path = path;
  }
}

export interface PinnedMap {
  map: string;
  path: string;
}

/** The maps libbpf will pin or reuse at load, with their paths (set at open from the pin root). */
export function pinnedMaps(maps: Map<string, Pointer>): PinnedMap[] {
  const l = libbpf();
  const out: PinnedMap[] = [];
  for (const [map, m] of maps) {
    const path = l.bpf_map__pin_path(m) as string | null;
    if (path) out.push({ map, path });
  }
  return out;
}

function lstat(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** "; its folder X is writable by every user" when it is, for the messages below. */
function openFolder(path: string): string {
  const dir = dirname(path);
  try {
    if (statSync(dir).mode & 0o002)
      return `; its folder ${dir} is writable by every user, so anyone can plant pins there`;
  } catch {}
  return '';
}

const fixHint = (path: string, pinRoot: string): string =>
  `if it is not yours, remove it (\`rm ${path}\`) and make the folder private (\`chmod 0700 ${pinRoot}\`); or pass the pinRoot load option, a folder only you can write`;

/** The fdinfo fields of a BPF object fd (map_type/map_id for maps, prog_type for programs). */
function fdinfo(fd: number): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n')) {
    const match = /^([a-z_]+):\s*(.*)$/.exec(line);
    if (match) out.set(match[1]!, match[2]!);
  }
  return out;
}

/** The map id of the object pinned at path; undefined when it cannot be opened or is no map. */
function pinnedMapId(path: string): string | undefined {
  const fd = libbpf().bpf_obj_get(path) as number;
  if (fd < 0) return undefined;
  try {
    return fdinfo(fd).get('map_id');
  } finally {
    libc().close(fd);
  }
}

/** Checks the pins that already exist before libbpf reuses them. */
export function checkPins(pins: PinnedMap[], pinRoot: string): void {
  const euid = process.geteuid?.() ?? 0;
  for (const { map, path } of pins) {
    const st = lstat(path);
    if (!st) {
      // libbpf pins it here; verifyPins checks what it found. Worth a word where others can write.
      const open = openFolder(path);
      if (open) debug(`map ${map}: pinning at ${path}${open}`);
      continue;
    }
    if (st.uid !== euid) {
      throw new PinError(
        `map ${map}: the pin ${path} belongs to ${describeUser(st.uid)}, not to this process (${describeUser(euid)}), so tsbpf will not reuse it${openFolder(path)}`,
        path,
        { hint: fixHint(path, pinRoot) },
      );
    }
    const what = st.isDirectory() ? 'a directory' : st.isSymbolicLink() ? 'a symbolic link' : undefined;
    if (what || !st.isFile() || pinnedMapId(path) === undefined) {
      throw new PinError(
        `map ${map}: ${path} is ${what ?? 'not a pinned BPF map'} (a program or link pin, or not a pin), so it cannot be the map's pin${openFolder(path)}`,
        path,
        { hint: `remove it (\`rm -r ${path}\`) if nothing needs it, or pass the pinRoot load option` },
      );
    }
  }
}

/** After load: every pin is ours and is the very map the programs were loaded with. */
export function verifyPins(pins: PinnedMap[], maps: Map<string, Pointer>, pinRoot: string): void {
  const l = libbpf();
  const euid = process.geteuid?.() ?? 0;
  for (const { map, path } of pins) {
    const fd = l.bpf_map__fd(maps.get(map)) as number;
    const st = lstat(path);
    const ours = fd >= 0 ? fdinfo(fd).get('map_id') : undefined;
    if (st && st.uid === euid && ours !== undefined && pinnedMapId(path) === ours) continue;
    const owner = st ? ` (it belongs to ${describeUser(st.uid)})` : '';
    throw new PinError(
      `map ${map}: the pin ${path} changed during load${owner}: it is not the map this load made or checked${openFolder(path)}`,
      path,
      { hint: fixHint(path, pinRoot) },
    );
  }
}

/** The pin paths that libbpf's messages name, or every pin path when none is named. */
export function pinPathsIn(text: string, pins: PinnedMap[]): string[] {
  const named = pins.filter((p) => text.includes(p.path)).map((p) => p.path);
  return named.length > 0 ? named : pins.map((p) => p.path);
}
