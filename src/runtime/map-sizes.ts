// Maps whose C declaration leaves a size to user space (a stack trace map with only key_size, a
// hash with max_entries 0) would make BPF_MAP_CREATE fail with a bare EINVAL, and with it every
// program of the object. checkMapSizes says which map, which property and the line to write before
// load. The rules are the kernel's map_alloc_check functions: htab_map_alloc_check
// (kernel/bpf/hashtab.c), array_map_alloc_check and fd_array_map_alloc_check (arraymap.c),
// stack_map_alloc (stackmap.c), queue_stack_map_alloc_check (queue_stack_maps.c), bloom_map_alloc
// (bloom_filter.c), ringbuf_map_alloc (ringbuf.c), trie_alloc (lpm_trie.c), dev_map_alloc_check
// (devmap.c), cpu_map_alloc (cpumap.c), sock_map_alloc (sock_map.c), xsk_map_alloc (xskmap.c),
// bpf_local_storage_map_alloc_check (bpf_local_storage.c), cgroup_storage_map_alloc
// (local_storage.c). Types left out may legitimately have 0 there: perf event arrays (libbpf sets
// max_entries to the CPU count at create, bpf_object__create_map), struct_ops (libbpf sizes them
// from the kernel's struct), local storage maps (max_entries must be 0), ring buffers (key and
// value 0).

import { camelCase, propertyKey } from '../codegen/naming.js';
import { UsageError } from '../errors.js';
import { MapType, mapTypeName } from './constants.js';

/** What a property must be, as "(TYPE needs …)" says, and a value to suggest. */
interface Need {
  why: string;
  example: string;
}

const sizeOfKey: Need = { why: 'the size of its key', example: '4' };
const sizeOfValue: Need = { why: 'the size of its value', example: '8' };
const u32Key: Need = { why: '4 (a u32 index)', example: '4' };
const fdValue: Need = { why: '4 (a file descriptor or id)', example: '4' };
const entries: Need = { why: 'the most entries it may hold', example: '1024' };

const T = MapType;
/** Per map type: the properties that must not be 0. */
const needs = new Map<number, { keySize?: Need; valueSize?: Need; maxEntries?: Need }>([
  [T.hash, { keySize: sizeOfKey, valueSize: sizeOfValue, maxEntries: entries }],
  [T.percpuHash, { keySize: sizeOfKey, valueSize: sizeOfValue, maxEntries: entries }],
  [T.lruHash, { keySize: sizeOfKey, valueSize: sizeOfValue, maxEntries: entries }],
  [T.lruPercpuHash, { keySize: sizeOfKey, valueSize: sizeOfValue, maxEntries: entries }],
  [T.hashOfMaps, { keySize: sizeOfKey, maxEntries: entries }],
  [T.array, { keySize: u32Key, valueSize: sizeOfValue, maxEntries: entries }],
  [T.percpuArray, { keySize: u32Key, valueSize: sizeOfValue, maxEntries: entries }],
  [T.arrayOfMaps, { keySize: u32Key, maxEntries: entries }],
  [T.progArray, { keySize: u32Key, valueSize: fdValue, maxEntries: entries }],
  [T.cgroupArray, { keySize: u32Key, valueSize: fdValue, maxEntries: entries }],
  [
    T.stackTrace,
    {
      keySize: u32Key,
      valueSize: { why: 'depth * 8', example: '127 * 8' },
      maxEntries: { why: 'the most stacks it may hold', example: '1024' },
    },
  ],
  [
    T.lpmTrie,
    {
      keySize: { why: '4 + the prefix data size', example: '4 + 4' },
      valueSize: sizeOfValue,
      maxEntries: entries,
    },
  ],
  [T.queue, { valueSize: sizeOfValue, maxEntries: entries }],
  [T.stack, { valueSize: sizeOfValue, maxEntries: entries }],
  [T.bloomFilter, { valueSize: sizeOfValue, maxEntries: entries }],
  [T.ringbuf, { maxEntries: { why: 'a power-of-2 multiple of the page size', example: '256 * 1024' } }],
  [T.userRingbuf, { maxEntries: { why: 'a power-of-2 multiple of the page size', example: '256 * 1024' } }],
  [T.devmap, { keySize: u32Key, valueSize: fdValue, maxEntries: entries }],
  [T.devmapHash, { keySize: u32Key, valueSize: fdValue, maxEntries: entries }],
  [T.cpumap, { keySize: u32Key, valueSize: { why: '4 (a queue size)', example: '4' }, maxEntries: entries }],
  [T.xskmap, { keySize: u32Key, valueSize: fdValue, maxEntries: entries }],
  [T.sockmap, { keySize: u32Key, valueSize: fdValue, maxEntries: entries }],
  [T.sockhash, { keySize: sizeOfKey, valueSize: fdValue, maxEntries: entries }],
  [T.reuseportSockarray, { keySize: u32Key, valueSize: fdValue, maxEntries: entries }],
  [T.skStorage, { valueSize: sizeOfValue }],
  [T.inodeStorage, { valueSize: sizeOfValue }],
  [T.taskStorage, { valueSize: sizeOfValue }],
  [T.cgroupStorage, { valueSize: sizeOfValue }],
  [T.percpuCgroupStorage, { valueSize: sizeOfValue }],
]);

/** What checkMapSizes reads of a map (a MapSpec has it all). */
export interface SizedMap {
  name: string;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  internal: boolean;
  autocreate: boolean;
}

/** `stackTrace` -> `BPF_MAP_TYPE_STACK_TRACE`, as the C declaration spells it. */
function cTypeName(type: number): string {
  const name = mapTypeName(type);
  if (name.startsWith('map type')) return name;
  return `BPF_MAP_TYPE_${name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;
}

/** The expression a generated loader's user writes for a map: its camelCase key, as loader.ts assigns it. */
function accessor(name: string, all: readonly string[]): string {
  const camel = camelCase(name);
  if (camel !== '' && all.filter((n) => camelCase(n) === camel).length === 1) return `spec.maps.${camel}`;
  const key = propertyKey(name);
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `spec.maps.${key}` : `spec.maps[${key}]`;
}

const properties = [
  ['keySize', 'key_size'],
  ['valueSize', 'value_size'],
  ['maxEntries', 'max_entries'],
] as const;

/** Throws a UsageError naming every map the kernel would refuse for a size left at 0. */
export function checkMapSizes(maps: Iterable<SizedMap>): void {
  const list = [...maps];
  const names = list.filter((m) => !m.internal).map((m) => m.name);
  const problems: string[] = [];
  for (const map of list) {
    if (map.internal || !map.autocreate) continue;
    const need = needs.get(map.type);
    if (!need) continue;
    for (const [prop, cName] of properties) {
      const n = need[prop];
      if (!n || map[prop] !== 0) continue;
      problems.push(
        `map ${map.name}: ${cName} is 0 (${cTypeName(map.type)} needs ${n.why}); set it before load: ${accessor(map.name, names)}.${prop} = ${n.example}`,
      );
    }
  }
  if (problems.length === 0) return;
  throw new UsageError(problems.join('\n'), {
    hint: 'the C declaration leaves these to user space; set them on the spec (load…Spec()) before load(), or declare them in C',
  });
}
