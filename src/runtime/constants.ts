// Kernel enum values the runtime needs, from include/uapi/linux/bpf.h.

/** enum bpf_map_type, by name. */
export const MapType = {
  unspec: 0,
  hash: 1,
  array: 2,
  progArray: 3,
  perfEventArray: 4,
  percpuHash: 5,
  percpuArray: 6,
  stackTrace: 7,
  cgroupArray: 8,
  lruHash: 9,
  lruPercpuHash: 10,
  lpmTrie: 11,
  arrayOfMaps: 12,
  hashOfMaps: 13,
  devmap: 14,
  sockmap: 15,
  cpumap: 16,
  xskmap: 17,
  sockhash: 18,
  cgroupStorage: 19,
  reuseportSockarray: 20,
  percpuCgroupStorage: 21,
  queue: 22,
  stack: 23,
  skStorage: 24,
  devmapHash: 25,
  structOps: 26,
  ringbuf: 27,
  inodeStorage: 28,
  taskStorage: 29,
  bloomFilter: 30,
  userRingbuf: 31,
  cgrpStorage: 32, // Linux 6.2
} as const;

/** A map type by name, as `MapType` spells it (`'stackTrace'`, `'hash'`, …). */
export type MapTypeName = keyof typeof MapType;

const mapTypeNames = new Map<number, string>(Object.entries(MapType).map(([name, value]) => [value, name]));

export function mapTypeName(type: number): string {
  return mapTypeNames.get(type) ?? `map type ${type}`;
}

export function isPerCpuMapType(type: number): boolean {
  return (
    type === MapType.percpuHash ||
    type === MapType.percpuArray ||
    type === MapType.lruPercpuHash ||
    type === MapType.percpuCgroupStorage
  );
}

/** enum bpf_prog_type, by name. */
export const ProgType = {
  socketFilter: 1,
  kprobe: 2,
  schedCls: 3,
  schedAct: 4,
  tracepoint: 5,
  xdp: 6,
  perfEvent: 7,
  cgroupSkb: 8,
  cgroupSock: 9,
  lwtIn: 10,
  lwtOut: 11,
  lwtXmit: 12,
  sockOps: 13,
  skSkb: 14,
  cgroupDevice: 15,
  skMsg: 16,
  rawTracepoint: 17,
  cgroupSockAddr: 18,
  lwtSeg6local: 19,
  lircMode2: 20,
  skReuseport: 21,
  flowDissector: 22,
  cgroupSysctl: 23,
  rawTracepointWritable: 24,
  cgroupSockopt: 25,
  tracing: 26,
  structOps: 27,
  ext: 28,
  lsm: 29,
  skLookup: 30,
  syscall: 31,
} as const;

/** A program type by name, as `ProgType` spells it (`'xdp'`, `'tracing'`, …). */
export type ProgTypeName = keyof typeof ProgType;

/** enum bpf_attach_type: BPF_XDP. */
export const BPF_XDP = 37;

/** enum bpf_attach_type: what a sockmap/sockhash program is attached as (bpf_prog_attach). */
export const SockMapAttachType = {
  streamParser: 4, // BPF_SK_SKB_STREAM_PARSER
  streamVerdict: 5, // BPF_SK_SKB_STREAM_VERDICT
  msgVerdict: 7, // BPF_SK_MSG_VERDICT
  skbVerdict: 38, // BPF_SK_SKB_VERDICT
} as const;

/** XDP_FLAGS_* from include/uapi/linux/if_link.h. */
export const XdpFlags = { generic: 1 << 1, native: 1 << 2, offload: 1 << 3 } as const;

/** BPF_ANY, BPF_NOEXIST, BPF_EXIST update flags. */
export const UpdateFlags = { any: 0, noexist: 1, exist: 2 } as const;
export type UpdateFlag = keyof typeof UpdateFlags;

/** Whether this machine is little-endian (kernel structs are in host order). */
export const hostLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
