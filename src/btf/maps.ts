// BTF-defined maps: each variable in the `.maps` DATASEC is a struct whose members encode the map's
// attributes, following libbpf's convention (tools/lib/bpf/bpf_helpers.h and parse_btf_map_def in
// tools/lib/bpf/libbpf.c): `__uint(name, N)` is a pointer to an array of N elements, `__type(name, T)`
// a pointer to T, `__array(values, struct inner)` an array of pointers to the inner map's definition.
import { FormatError } from '../errors.js';
import type { Btf } from './btf.js';

/** Map type names by BPF_MAP_TYPE_* number (enum bpf_map_type in include/uapi/linux/bpf.h). */
export const MAP_TYPE_NAMES: readonly string[] = [
  'unspec',
  'hash',
  'array',
  'prog_array',
  'perf_event_array',
  'percpu_hash',
  'percpu_array',
  'stack_trace',
  'cgroup_array',
  'lru_hash',
  'lru_percpu_hash',
  'lpm_trie',
  'array_of_maps',
  'hash_of_maps',
  'devmap',
  'sockmap',
  'cpumap',
  'xskmap',
  'sockhash',
  'cgroup_storage',
  'reuseport_sockarray',
  'percpu_cgroup_storage',
  'queue',
  'stack',
  'sk_storage',
  'devmap_hash',
  'struct_ops',
  'ringbuf',
  'inode_storage',
  'task_storage',
  'bloom_filter',
  'user_ringbuf',
  'cgrp_storage',
  'arena',
  'insn_array',
];

export interface MapInfo {
  /** The C variable name. */
  name: string;
  /** BPF_MAP_TYPE_* (0 when the definition has no `type`). */
  type: number;
  /** 'hash', 'ringbuf', ... or 'type N' for numbers tsbpf does not know. */
  typeName: string;
  /** BTF id from `__type(key, T)`. */
  keyType?: number;
  /** BTF id from `__type(value, T)`. */
  valueType?: number;
  /** From `__uint(key_size, N)` or sizeof the key type. */
  keySize?: number;
  valueSize?: number;
  maxEntries?: number;
  flags?: number;
  pinning?: number;
  numaNode?: number;
  mapExtra?: number;
  /** The inner map of a map-in-map (`__array(values, struct inner)`). */
  innerMap?: MapInfo;
  /** The BTF VAR id of the map variable (absent for inner maps). */
  varType?: number;
}

/** Reads the map definitions of the `.maps` DATASEC (none when the object has no such section). */
export function readMaps(btf: Btf): MapInfo[] {
  const sec = btf.find('.maps', 'datasec')[0];
  const maps: MapInfo[] = [];
  for (const v of sec?.vars ?? []) {
    const variable = btf.type(v.type);
    if (variable.kind !== 'var')
      throw bad(btf, `.maps entry ${v.type} is a ${variable.kind}, not a variable`);
    const map = parseMapDef(btf, variable.name, variable.type, 0);
    map.varType = variable.id;
    maps.push(map);
  }
  return [...maps, ...readStructOpsMaps(btf)];
}

/** BPF_MAP_TYPE_STRUCT_OPS (enum bpf_map_type). */
const STRUCT_OPS = 26;

/**
 * The struct_ops maps: each variable of the `.struct_ops` (and `.struct_ops.link`) DATASEC is an
 * ops table (e.g. struct tcp_congestion_ops) that libbpf makes into a one-entry map of that name
 * (libbpf.c, init_struct_ops_maps), with a u32 key and the kernel's layout of the table as value.
 */
function readStructOpsMaps(btf: Btf): MapInfo[] {
  const maps: MapInfo[] = [];
  for (const name of ['.struct_ops', '.struct_ops.link']) {
    for (const v of btf.find(name, 'datasec')[0]?.vars ?? []) {
      const variable = btf.type(v.type);
      if (variable.kind !== 'var') continue;
      maps.push({
        name: variable.name,
        type: STRUCT_OPS,
        typeName: 'struct_ops',
        maxEntries: 1,
        varType: variable.id,
      });
    }
  }
  return maps;
}

/** The `__uint(name, N)` members of a map definition, and the MapInfo field each sets. */
const UINT_MEMBERS = {
  max_entries: 'maxEntries',
  map_flags: 'flags',
  pinning: 'pinning',
  numa_node: 'numaNode',
  map_extra: 'mapExtra',
  key_size: 'keySize',
  value_size: 'valueSize',
} as const;

function parseMapDef(btf: Btf, name: string, defType: number, depth: number): MapInfo {
  const def = btf.resolve(defType);
  if (def.kind !== 'struct') throw bad(btf, `map '${name}' is a ${def.kind}, not a struct definition`);
  const map: MapInfo = { name, type: 0, typeName: 'unspec' };
  for (const m of def.members) {
    const where = `map '${name}' member '${m.name}'`;
    switch (m.name) {
      case 'type':
        map.type = uintValue(btf, m.type, where);
        map.typeName = MAP_TYPE_NAMES[map.type] ?? `type ${map.type}`;
        break;
      case 'key':
      case 'value': {
        const ptr = btf.resolve(m.type);
        if (ptr.kind !== 'ptr') throw bad(btf, `${where} must be a pointer (use __type(${m.name}, T))`);
        const size = btf.sizeof(ptr.type);
        if (m.name === 'key') {
          map.keyType = ptr.type;
          map.keySize = size;
        } else {
          map.valueType = ptr.type;
          map.valueSize = size;
        }
        break;
      }
      case 'values': {
        // __array(values, struct inner): an array of pointers to the inner definition.
        const arr = btf.resolve(m.type);
        if (arr.kind !== 'array') throw bad(btf, `${where} must be an array (use __array(values, ...))`);
        const ptr = btf.resolve(arr.type);
        if (ptr.kind !== 'ptr') throw bad(btf, `${where} must be an array of pointers`);
        const inner = btf.resolve(ptr.type);
        // Program arrays point at a FUNC_PROTO; only map-in-map values describe an inner map.
        if (inner.kind === 'struct' && depth < 4) {
          map.innerMap = parseMapDef(btf, `${name}.inner`, ptr.type, depth + 1);
        }
        break;
      }
      default:
        if (m.name in UINT_MEMBERS) {
          map[UINT_MEMBERS[m.name as keyof typeof UINT_MEMBERS]] = uintValue(btf, m.type, where);
        }
        // Unknown members are ignored, as libbpf does for forward compatibility with a warning.
        break;
    }
  }
  return map;
}

/** The N of `__uint(name, N)`: `int (*name)[N]`. */
function uintValue(btf: Btf, typeId: number, where: string): number {
  const ptr = btf.resolve(typeId);
  if (ptr.kind !== 'ptr') throw bad(btf, `${where} must be a pointer to an array (use __uint(name, N))`);
  const arr = btf.resolve(ptr.type);
  if (arr.kind !== 'array') throw bad(btf, `${where} must be a pointer to an array (use __uint(name, N))`);
  return arr.nelems;
}

function bad(btf: Btf, what: string): FormatError {
  return new FormatError(`${btf.file}: ${what}`, {
    hint: 'Declare maps as libbpf does: struct { __uint(type, ...); __type(key, ...); ... } name SEC(".maps");',
  });
}
