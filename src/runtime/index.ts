// The tsbpf runtime, imported as 'tsbpf' by generated loaders and user programs: load an object's
// programs and maps into the kernel through libbpf (bound with koffi), attach programs, read and
// write maps through typed views, and read ring/perf buffer events as async iterables.

// Codecs, and the helpers generated codecs call: generated files import only from 'tsbpf'.
export * from '../codegen/codec.js';
export {
  CompileError,
  ConfigError,
  describeError,
  FormatError,
  NotSupportedError,
  PermissionError,
  ToolchainError,
  TsbpfError,
  type TsbpfErrorOptions,
  UsageError,
} from '../errors.js';
export { isPrintable, printable } from '../printable.js';
export type { KprobeMultiOptions, UprobeMultiOptions } from './attach-multi.js';
export {
  type AttachTarget,
  Collection,
  CollectionSpec,
  type LoadOptions,
  MapSpec,
  ProgramSpec,
  type SkippedProgram,
} from './collection.js';
export {
  MapType,
  type MapTypeName,
  mapTypeName,
  ProgType,
  type ProgTypeName,
  type UpdateFlag,
} from './constants.js';
export { SystemCallError, VerifierError } from './errors.js';
export { libbpfVersion } from './ffi/libbpf.js';
export { IterLink, type IterOptions } from './iter.js';
export { closeAllLinks } from './lifetime.js';
export { type Link, openPinnedLink } from './link.js';
export { BpfMap, type MapInfo, numPossibleCpus, openPinnedMap } from './map.js';
export type { MapAttachOptions, MapAttachType } from './map-attach.js';
export { type MapViewBuilders, mapViews } from './map-views.js';
export {
  ArrayMap,
  HashMap,
  type LpmKey,
  LpmTrieMap,
  lpmKey,
  MapOfMaps,
  PerCpuArrayMap,
  PerCpuHashMap,
  ProgArray,
  QueueMap,
  StackTraceMap,
  Variable,
} from './maps.js';
export {
  CpuMap,
  type CpuMapEntry,
  type CpuMapTarget,
  DevMap,
  type DevMapEntry,
  type DevMapTarget,
  type SocketRef,
  SockHash,
  SockMap,
  XskMap,
} from './maps-net.js';
export {
  BloomFilter,
  CgroupArray,
  CgrpStorage,
  FdArray,
  InodeStorage,
  LocalStorage,
  openPidfd,
  ReuseportSockArray,
  SkStorage,
  StructOpsMap,
  type StructOpsOwner,
  type TaskRef,
  TaskStorage,
} from './maps-special.js';
export type { NetfilterOptions } from './netfilter.js';
export {
  type HardwarePerfEvent,
  type PerfEventName,
  type PerfEventOptions,
  perfEventNames,
  type SoftwarePerfEvent,
} from './perf-event.js';
export { PerfEventLink } from './perf-event-attach.js';
export { PinError } from './pins.js';
export {
  Program,
  type TcOptions,
  type TestRunInput,
  type TestRunResult,
  type UprobeOptions,
  type XdpOptions,
} from './program.js';
export {
  type EventReader,
  PerfEventArray,
  PerfReader,
  type PerfReaderOptions,
  RingBuf,
  RingBufReader,
} from './readers.js';
export { openRawSocket, type RawSocket } from './socket.js';
export {
  type FollowStreamOptions,
  followProgramStream,
  openProgram,
  readProgramStream,
  type StreamLine,
  type StreamName,
} from './stream.js';
export { type TcDirection, type TcMechanism, TcxLink } from './tcx.js';
export type { UsdtOptions } from './usdt.js';
export { UserRingBuf, UserRingBufFullError, type UserRingBufSample } from './user-ringbuf.js';
