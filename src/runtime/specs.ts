// MapSpec and ProgramSpec: a map or program of an opened object, with everything libbpf 1.1 lets a
// loader change between bpf_object__open and bpf_object__load (the bpf_map__set_* and
// bpf_program__set_* setters of libbpf.h). A spec records each change and replays it on every
// freshly opened object (CollectionSpec.load may reopen), and refuses changes once its collection
// was loaded or closed: libbpf's setters return -EBUSY then, and the kernel objects exist already.

import { UsageError } from '../errors.js';
import { MapType, type MapTypeName, mapTypeName, ProgType, type ProgTypeName } from './constants.js';
import { callError } from './errors.js';
import { libbpf, type Pointer } from './ffi/libbpf.js';
import type { BpfMap } from './map.js';
import type { Program } from './program.js';

/** @internal Shared by a CollectionSpec and its map and program specs: whether load() or close() used it up. */
export interface SpecState {
  consumed?: 'loaded' | 'closed';
}

/** @internal A data-section map's initial bytes, kept by the CollectionSpec (see dataSection). */
export interface InitialValue {
  read(): Uint8Array;
  write(bytes: Uint8Array): void;
}

/** Where a BTF-based program (fentry/fexit, tp_btf, lsm, freplace) attaches. */
export interface AttachTarget {
  /** The kernel function, BTF tracepoint or (for freplace) BPF function to attach to. */
  functionName: string;
  /** For freplace: the loaded program (or its fd) whose function is replaced; omit for the kernel. */
  program?: Program | number;
}

function consumedError(what: string, state: SpecState): UsageError {
  const how = state.consumed === 'closed' ? 'was closed' : 'was loaded';
  return new UsageError(`${what} cannot change: its spec ${how}, and libbpf applies it only before load`, {
    hint: 'set it on a freshly opened spec (load…Spec() or CollectionSpec.fromBytes) before load()',
  });
}

function u32(what: string, value: number, min = 0): number {
  if (!Number.isInteger(value) || value < min || value > 0xffffffff)
    throw new UsageError(`${what} must be an integer from ${min} to 4294967295, not ${value}`);
  return value;
}

/** A program of a spec. */
export class ProgramSpec {
  readonly name: string;
  readonly sectionName: string;
  readonly #state: SpecState;
  #autoload: boolean;
  #type: number;
  #expectedAttachType: number;
  #flags: number;
  #logLevel: number;
  #attachTarget: AttachTarget | undefined;
  readonly #changed = new Set<'type' | 'expectedAttachType' | 'flags' | 'logLevel' | 'attachTarget'>();

  constructor(
    name: string,
    sectionName: string,
    type: number,
    autoload: boolean,
    more: { expectedAttachType?: number; flags?: number; logLevel?: number; state?: SpecState } = {},
  ) {
    this.name = name;
    this.sectionName = sectionName;
    this.#type = type;
    this.#autoload = autoload;
    this.#expectedAttachType = more.expectedAttachType ?? 0;
    this.#flags = more.flags ?? 0;
    this.#logLevel = more.logLevel ?? 0;
    this.#state = more.state ?? {};
  }

  #check(what: string): void {
    if (this.#state.consumed) throw consumedError(`program ${this.name}: ${what}`, this.#state);
  }

  /** Whether load() puts this program in the kernel. */
  get autoload(): boolean {
    return this.#autoload;
  }
  set autoload(value: boolean) {
    this.#check('autoload');
    this.#autoload = value;
  }

  /** enum bpf_prog_type (bpf_program__set_type); set it by number or by its `ProgType` name. */
  get type(): number {
    return this.#type;
  }
  set type(value: number | ProgTypeName) {
    this.#check('type');
    if (typeof value === 'string') {
      const known = (ProgType as Record<string, number>)[value];
      if (known === undefined)
        throw new UsageError(`program ${this.name}: no program type ${value}`, {
          hint: `one of: ${Object.keys(ProgType).join(', ')}`,
        });
      value = known;
    }
    this.#type = u32(`program ${this.name}: type`, value);
    this.#changed.add('type');
  }

  /** enum bpf_attach_type the kernel checks the program against at load (bpf_program__set_expected_attach_type). */
  get expectedAttachType(): number {
    return this.#expectedAttachType;
  }
  set expectedAttachType(value: number) {
    this.#check('expectedAttachType');
    this.#expectedAttachType = u32(`program ${this.name}: expectedAttachType`, value);
    this.#changed.add('expectedAttachType');
  }

  /** BTF attach target (bpf_program__set_attach_target); undefined keeps the one its SEC() names. */
  get attachTarget(): AttachTarget | undefined {
    return this.#attachTarget;
  }
  set attachTarget(value: AttachTarget) {
    this.#check('attachTarget');
    if (!value?.functionName) throw new UsageError(`program ${this.name}: attachTarget needs a functionName`);
    this.#attachTarget = { ...value };
    this.#changed.add('attachTarget');
  }

  /** BPF_F_* program load flags, e.g. BPF_F_SLEEPABLE (bpf_program__set_flags). */
  get flags(): number {
    return this.#flags;
  }
  set flags(value: number) {
    this.#check('flags');
    this.#flags = u32(`program ${this.name}: flags`, value);
    this.#changed.add('flags');
  }

  /** Verifier log level of this program (bpf_program__set_log_level); wins over load({ logLevel }). */
  get logLevel(): number {
    return this.#logLevel;
  }
  set logLevel(value: number) {
    this.#check('logLevel');
    this.#logLevel = u32(`program ${this.name}: logLevel`, value);
    this.#changed.add('logLevel');
  }

  /** @internal whether the user set this program's log level (load's logLevel option then stays off it). */
  get logLevelChanged(): boolean {
    return this.#changed.has('logLevel');
  }

  /** @internal Sends the recorded changes to libbpf's program `p` of a freshly opened object. */
  applyTo(p: Pointer): void {
    const l = libbpf();
    const check = (what: string, err: number) => {
      if (err < 0) throw callError(`program ${this.name}: set ${what}`, -err);
    };
    if (this.#changed.has('type')) check('type', l.bpf_program__set_type(p, this.#type) as number);
    if (this.#changed.has('expectedAttachType'))
      check(
        'expected attach type',
        l.bpf_program__set_expected_attach_type(p, this.#expectedAttachType) as number,
      );
    if (this.#changed.has('flags')) check('flags', l.bpf_program__set_flags(p, this.#flags) as number);
    if (this.#changed.has('logLevel'))
      check('log level', l.bpf_program__set_log_level(p, this.#logLevel) as number);
    const target = this.#attachTarget;
    if (target) {
      const fd = typeof target.program === 'number' ? target.program : (target.program?.fd ?? 0);
      check(
        `attach target ${target.functionName}`,
        l.bpf_program__set_attach_target(p, fd, target.functionName) as number,
      );
    }
  }
}

export interface MapSpecInit {
  name: string;
  type: number;
  keySize: number;
  valueSize: number;
  keyTypeId: number;
  valueTypeId: number;
  declaredValueSize: number;
  internal: boolean;
  maxEntries: number;
  flags?: number;
  numaNode?: number;
  mapExtra?: bigint;
  pinPath?: string;
  autocreate?: boolean;
  /** @internal */
  state?: SpecState;
  /** @internal */
  initialValue?: InitialValue;
}

type MapSetting =
  | 'type'
  | 'keySize'
  | 'valueSize'
  | 'maxEntries'
  | 'flags'
  | 'numaNode'
  | 'mapExtra'
  | 'innerMap'
  | 'pinPath'
  | 'autocreate';

/** A map of a spec. */
export class MapSpec {
  readonly name: string;
  /** The BTF type ids the object declared (__type(key/value, ...)); 0 when none. */
  readonly keyTypeId: number;
  readonly valueTypeId: number;
  /**
   * The value size the object declared. For ring buffers and perf event arrays declared with
   * `__type(value, struct event)` this is sizeof(struct event): the event type, while the map
   * itself is created with the sizes the kernel wants.
   */
  readonly declaredValueSize: number;
  /** An internal map (.data, .rodata, .bss, .kconfig) rather than one the program declared. */
  readonly internal: boolean;
  readonly #state: SpecState;
  readonly #initialValue: InitialValue | undefined;
  #type: number;
  #keySize: number;
  #valueSize: number;
  #maxEntries: number;
  #flags: number;
  #numaNode: number;
  #mapExtra: bigint;
  #innerMap: BpfMap | number | undefined;
  #pinPath: string | undefined;
  #autocreate: boolean;
  readonly #changed = new Set<MapSetting>();

  constructor(init: MapSpecInit) {
    this.name = init.name;
    this.#type = init.type;
    this.#keySize = init.keySize;
    this.#valueSize = init.valueSize;
    this.keyTypeId = init.keyTypeId;
    this.valueTypeId = init.valueTypeId;
    this.declaredValueSize = init.declaredValueSize;
    this.internal = init.internal;
    this.#maxEntries = init.maxEntries;
    this.#flags = init.flags ?? 0;
    this.#numaNode = init.numaNode ?? 0;
    this.#mapExtra = init.mapExtra ?? 0n;
    this.#pinPath = init.pinPath;
    this.#autocreate = init.autocreate ?? true;
    this.#state = init.state ?? {};
    this.#initialValue = init.initialValue;
  }

  #set(what: MapSetting): void {
    if (this.#state.consumed) throw consumedError(`map ${this.name}: ${what}`, this.#state);
    this.#changed.add(what);
  }

  /** enum bpf_map_type (bpf_map__set_type); set it by number or by its `MapType` name. */
  get type(): number {
    return this.#type;
  }
  set type(value: number | MapTypeName) {
    if (typeof value === 'string') {
      const known = (MapType as Record<string, number>)[value];
      if (known === undefined)
        throw new UsageError(`map ${this.name}: no map type ${value}`, {
          hint: `one of: ${Object.keys(MapType).join(', ')}`,
        });
      value = known;
    }
    u32(`map ${this.name}: type`, value);
    this.#set('type');
    this.#type = value;
  }
  get typeName(): string {
    return mapTypeName(this.#type);
  }

  /** Key size in bytes (bpf_map__set_key_size). */
  get keySize(): number {
    return this.#keySize;
  }
  set keySize(value: number) {
    u32(`map ${this.name}: keySize`, value);
    this.#set('keySize');
    this.#keySize = value;
  }

  /** Value size in bytes (bpf_map__set_value_size), e.g. depth * 8 for a stack trace map. */
  get valueSize(): number {
    return this.#valueSize;
  }
  set valueSize(value: number) {
    u32(`map ${this.name}: valueSize`, value);
    this.#set('valueSize');
    this.#valueSize = value;
  }

  /** max_entries (bpf_map__set_max_entries). */
  get maxEntries(): number {
    return this.#maxEntries;
  }
  set maxEntries(value: number) {
    if (!Number.isInteger(value) || value <= 0 || value > 0xffffffff)
      throw new UsageError(`map ${this.name}: max entries must be a positive integer`);
    this.#set('maxEntries');
    this.#maxEntries = value;
  }

  /** BPF_F_* map_flags, e.g. BPF_F_NO_PREALLOC for a hash (bpf_map__set_map_flags). */
  get flags(): number {
    return this.#flags;
  }
  set flags(value: number) {
    u32(`map ${this.name}: flags`, value);
    this.#set('flags');
    this.#flags = value;
  }

  /** NUMA node the kernel allocates on; used only with BPF_F_NUMA_NODE in flags (bpf_map__set_numa_node). */
  get numaNode(): number {
    return this.#numaNode;
  }
  set numaNode(value: number) {
    u32(`map ${this.name}: numaNode`, value);
    this.#set('numaNode');
    this.#numaNode = value;
  }

  /** map_extra: for a bloom filter, the number of hash functions (bpf_map__set_map_extra). */
  get mapExtra(): bigint {
    return this.#mapExtra;
  }
  set mapExtra(value: bigint | number) {
    const v = BigInt(value);
    if (v < 0n || v >= 1n << 64n) throw new UsageError(`map ${this.name}: mapExtra must fit in 64 bits`);
    this.#set('mapExtra');
    this.#mapExtra = v;
  }

  /**
   * The bytes a data-section map (.data, .rodata, .bss) starts with (bpf_map__set_initial_value):
   * undefined for other maps. Setting it takes exactly valueSize bytes; the spec's typed variables
   * see the change.
   */
  get initialValue(): Uint8Array | undefined {
    return this.#initialValue?.read().slice();
  }
  set initialValue(value: Uint8Array) {
    if (!this.#initialValue)
      throw new UsageError(
        `map ${this.name}: initialValue is only for data-section maps (.data, .rodata, .bss)`,
        {
          hint: 'write other maps after load with set()',
        },
      );
    if (this.#state.consumed) throw consumedError(`map ${this.name}: initialValue`, this.#state);
    if (value.byteLength !== this.#valueSize)
      throw new UsageError(
        `map ${this.name}: initialValue has ${value.byteLength} bytes, the section has ${this.#valueSize}`,
      );
    this.#initialValue.write(value);
  }

  /** For a map of maps: the map (or its fd) whose shape the inner maps have (bpf_map__set_inner_map_fd). */
  get innerMap(): BpfMap | number | undefined {
    return this.#innerMap;
  }
  set innerMap(value: BpfMap | number) {
    if (this.#type !== MapType.arrayOfMaps && this.#type !== MapType.hashOfMaps)
      throw new UsageError(
        `map ${this.name}: innerMap is only for array_of_maps and hash_of_maps, not ${this.typeName}`,
      );
    this.#set('innerMap');
    this.#innerMap = value;
  }

  /** Where libbpf pins the map at load, reusing a compatible map pinned there (bpf_map__set_pin_path). */
  get pinPath(): string | undefined {
    return this.#pinPath;
  }
  set pinPath(value: string | undefined) {
    this.#set('pinPath');
    this.#pinPath = value;
  }

  /** Whether load() creates this map (bpf_map__set_autocreate); programs using it must then be off. */
  get autocreate(): boolean {
    return this.#autocreate;
  }
  set autocreate(value: boolean) {
    this.#set('autocreate');
    this.#autocreate = value;
  }

  /** @internal Sends the recorded changes to libbpf's map `m` of a freshly opened object. */
  applyTo(m: Pointer): void {
    const l = libbpf();
    const check = (what: string, err: number) => {
      if (err < 0) throw callError(`map ${this.name}: set ${what}`, -err);
    };
    const has = (s: MapSetting) => this.#changed.has(s);
    if (has('type')) check('type', l.bpf_map__set_type(m, this.#type) as number);
    if (has('keySize')) check('key size', l.bpf_map__set_key_size(m, this.#keySize) as number);
    if (has('valueSize')) check('value size', l.bpf_map__set_value_size(m, this.#valueSize) as number);
    if (has('maxEntries')) check('max entries', l.bpf_map__set_max_entries(m, this.#maxEntries) as number);
    if (has('flags')) check('flags', l.bpf_map__set_map_flags(m, this.#flags) as number);
    if (has('numaNode')) check('NUMA node', l.bpf_map__set_numa_node(m, this.#numaNode) as number);
    if (has('mapExtra')) check('map_extra', l.bpf_map__set_map_extra(m, this.#mapExtra) as number);
    if (has('innerMap')) {
      const inner = this.#innerMap;
      const fd = typeof inner === 'number' ? inner : (inner?.fd ?? -1);
      check('inner map', l.bpf_map__set_inner_map_fd(m, fd) as number);
    }
    if (has('pinPath')) check('pin path', l.bpf_map__set_pin_path(m, this.#pinPath ?? null) as number);
    if (has('autocreate')) check('autocreate', l.bpf_map__set_autocreate(m, this.#autocreate) as number);
  }
}
