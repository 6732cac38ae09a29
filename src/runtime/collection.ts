// CollectionSpec (an object libbpf opened, not yet in the kernel) and Collection (the loaded one).
// The spec records what the user changed (map and program settings in specs.ts, data section
// bytes) instead of trusting libbpf's open object alone: load may have to reopen the object — with
// a custom kernel BTF or pin root, or to drop a program the kernel refused — and replays the
// changes each time.

import { existsSync } from 'node:fs';
import { parseBtf } from '../btf/btf.js';
import { parseBtfExt } from '../btf/ext.js';
import { EM_BPF } from '../elf/constants.js';
import { parseElf } from '../elf/elf.js';
import { FormatError, NotSupportedError, PermissionError, TsbpfError, UsageError } from '../errors.js';
import { errnoName } from '../linux.js';
import { debug } from '../output.js';
import { btfAttachLoadError } from './btf-attach.js';
import { MapType } from './constants.js';
import {
  callError,
  capabilitiesFor,
  E2BIG,
  EACCES,
  EAGAIN,
  ENOSPC,
  EPERM,
  SystemCallError,
  VerifierError,
} from './errors.js';
import { externLoadError, unresolvedWeakKfuncs } from './externs.js';
import { koffi, libbpf, type Pointer } from './ffi/libbpf.js';
import { libc, PROT_READ, PROT_WRITE } from './ffi/libc.js';
import { type MappedRange, mapShared } from './ffi/mapped.js';
import { captureLibbpf, type LibbpfMessage } from './ffi/print.js';
import { missingAttachTypeError, missingMapTypeError, missingProgTypeError } from './kernel-types.js';
import { finalizer } from './lifetime.js';
import type { Link } from './link.js';
import { BpfMap } from './map.js';
import { checkMapSizes } from './map-sizes.js';
import { structOpsLink } from './maps-special.js';
import { adoptNewerSection, structOpsOpenError, unknownSectionError } from './newer-sections.js';
import { checkPins, type PinnedMap, pinnedMaps, pinPathsIn, verifyPins } from './pins.js';
import { Program } from './program.js';
import { MapSpec, ProgramSpec, type SpecState } from './specs.js';
import { tokenOpenOpts } from './token.js';
import { summarizeVerifierLog, verifierMessage } from './verifier.js';

export interface LoadOptions {
  /** Kernel BTF for CO-RE relocations (for kernels without /sys/kernel/btf/vmlinux). */
  kernelBtf?: string;
  /** Directory for maps declared with LIBBPF_PIN_BY_NAME (default /sys/fs/bpf). */
  pinRoot?: string;
  /** Verifier log level for every program: 0 (log only on failure, default), 1, 2 (verbose). */
  logLevel?: 0 | 1 | 2;
  /**
   * Kept for compatibility; libbpf grows its own log buffer until the whole verifier log fits,
   * so the log of a failure is always complete.
   */
  logSize?: number;
  /**
   * 'fail' (default): any program that does not load fails the load.
   * 'skip-unsupported': programs the kernel refuses are left out and listed in `collection.skipped`.
   */
  optionalPrograms?: 'fail' | 'skip-unsupported';
  /**
   * A bpffs mounted with delegate_* options, for loading with a BPF token from a user namespace
   * (libbpf 1.4+, Linux 6.9+; docs/security.md). Without it libbpf reads LIBBPF_BPF_TOKEN_PATH;
   * '' turns tokens off.
   */
  bpfTokenPath?: string;
}

export interface SkippedProgram {
  program: string;
  reason: string;
  error: TsbpfError;
}

export { type AttachTarget, MapSpec, ProgramSpec } from './specs.js';

interface Opened {
  /** The object's name (CollectionSpec.fromBytes's name option). */
  name: string;
  obj: Pointer;
  programs: Map<string, Pointer>;
  maps: Map<string, Pointer>;
  /** Key/value sizes as the object declared them, before fixEventMapSizes. */
  declared: Map<string, { keySize: number; valueSize: number }>;
  /** The ELF object libbpf opened, for errors that name the functions using a symbol. */
  bytes: Uint8Array;
}

/**
 * Reads the ELF header, section table, .BTF and .BTF.ext with tsbpf's own (fuzzed) parsers before
 * libbpf sees the bytes. Garbage, a truncated file or an object for another machine gets a message
 * that says which, rather than libbpf's LIBBPF_ERRNO__FORMAT; and malformed BTF never reaches
 * libbpf 1.1, whose BTF sanity checks miss cases that crash it (out-of-range type ids).
 */
function checkObject(bytes: Uint8Array, name: string): void {
  const hint = 'pass the bytes of a BPF object compiled with clang -target bpf -g (tsbpf build does this)';
  const file = `BPF object ${name}`;
  let machine: number;
  try {
    const elf = parseElf(bytes, file);
    machine = elf.machine;
    const btfSection = elf.section('.BTF');
    if (machine === EM_BPF && btfSection) {
      const btf = parseBtf(elf.data(btfSection), { file: `${file} (.BTF)`, littleEndian: elf.littleEndian });
      const ext = elf.section('.BTF.ext');
      if (ext) parseBtfExt(elf.data(ext), btf, `${file} (.BTF.ext)`);
    }
  } catch (error) {
    if (error instanceof TsbpfError) throw new FormatError(error.message, { hint, cause: error });
    throw new FormatError(`${file}: not a valid ELF object`, { hint, cause: error });
  }
  if (machine !== EM_BPF) {
    throw new FormatError(`BPF object ${name}: an ELF object for machine ${machine}, not eBPF (${EM_BPF})`, {
      hint,
    });
  }
}

function openObject(bytes: Uint8Array, name: string, options: LoadOptions = {}): Opened {
  const l = libbpf();
  // libbpf reads a custom kernel BTF only when a CO-RE relocation needs it: check it now, so a
  // wrong path fails on every object rather than on the first one that uses CO-RE.
  if (options.kernelBtf !== undefined && !existsSync(options.kernelBtf)) {
    throw new NotSupportedError(`kernel BTF ${options.kernelBtf} does not exist`, {
      hint: 'pass the kernelBtf of an existing BTF file (e.g. from btfhub or `tsbpf btfgen`), or omit it to use /sys/kernel/btf/vmlinux',
    });
  }
  const opts = {
    object_name: name,
    relaxed_maps: false,
    pin_root_path: options.pinRoot ?? null,
    attach_prog_fd_stub: 0,
    kconfig: null,
    btf_custom_path: options.kernelBtf ?? null,
    kernel_log_buf: null,
    kernel_log_size: 0,
    kernel_log_level: 0,
    ...tokenOpenOpts(options.bpfTokenPath),
  };
  const {
    result: obj,
    error,
    messages,
  } = captureLibbpf(() => l.bpf_object__open_mem(bytes, bytes.byteLength, opts));
  if (error) throw error;
  if (!obj) {
    const errno = koffi.errno();
    const sections = parseElf(bytes, `BPF object ${name}`).sections.map((s) => s.name);
    const newer = structOpsOpenError(
      `open BPF object ${name}`,
      messages.map((m) => m.text),
      sections,
    );
    if (newer) throw newer;
    throw new FormatError(`cannot open BPF object ${name}: ${errnoName(errno)}${tail(messages)}`, {
      hint: 'is it a BPF object compiled by clang -target bpf with BTF (-g)?',
    });
  }
  const programs = new Map<string, Pointer>();
  for (let p = l.bpf_object__next_program(obj, null); p; p = l.bpf_object__next_program(obj, p)) {
    programs.set(l.bpf_program__name(p) as string, p);
  }
  const maps = new Map<string, Pointer>();
  for (let m = l.bpf_object__next_map(obj, null); m; m = l.bpf_object__next_map(obj, m)) {
    maps.set(l.bpf_map__name(m) as string, m);
  }
  const declared = new Map<string, { keySize: number; valueSize: number }>();
  for (const [mname, m] of maps) {
    declared.set(mname, {
      keySize: l.bpf_map__key_size(m) as number,
      valueSize: l.bpf_map__value_size(m) as number,
    });
  }
  fixEventMapSizes(maps);
  return { name, obj, programs, maps, declared, bytes };
}

/**
 * Ring buffers want key/value size 0 and perf event arrays 4/4, but cilium-style declarations give
 * them a key or value type (`__type(value, struct event)`), which the kernel refuses with EINVAL.
 * Set the sizes the kernel wants; the declared type stays on the MapSpec as the event type.
 */
function fixEventMapSizes(maps: Map<string, Pointer>): void {
  const l = libbpf();
  for (const m of maps.values()) {
    const type = l.bpf_map__type(m) as number;
    const [key, value] =
      type === MapType.ringbuf ? [0, 0] : type === MapType.perfEventArray ? [4, 4] : [-1, -1];
    if (key < 0) continue;
    if (l.bpf_map__key_size(m) !== key) l.bpf_map__set_key_size(m, key);
    if (l.bpf_map__value_size(m) !== value) l.bpf_map__set_value_size(m, value);
  }
}

function tail(messages: LibbpfMessage[], n = 3): string {
  const texts = messages
    .map((m) => m.text.trim())
    .filter((t) => t && !t.includes('-- BEGIN PROG LOAD LOG --'));
  return texts.length > 0 ? `\n  ${texts.slice(-n).join('\n  ')}` : '';
}

export class CollectionSpec {
  readonly name: string;
  readonly programs: ReadonlyMap<string, ProgramSpec>;
  readonly maps: ReadonlyMap<string, MapSpec>;
  readonly #bytes: Uint8Array;
  #opened: Opened | undefined;
  readonly #sections = new Map<string, { mapName: string; bytes: Uint8Array }>();
  /** Shared with the map and program specs: their setters throw once load() or close() ran. */
  readonly #state: SpecState = {};

  private constructor(bytes: Uint8Array, name: string) {
    this.#bytes = bytes;
    this.name = name;
    const opened = openObject(bytes, name);
    this.#opened = opened;
    finalizer.register(this, { close: () => libbpf().bpf_object__close(opened.obj) }, this);
    const l = libbpf();
    const programs = new Map<string, ProgramSpec>();
    for (const [pname, p] of opened.programs) {
      const spec = new ProgramSpec(
        pname,
        l.bpf_program__section_name(p) as string,
        l.bpf_program__type(p) as number,
        l.bpf_program__autoload(p) as boolean,
        {
          expectedAttachType: l.bpf_program__expected_attach_type(p) as number,
          flags: l.bpf_program__flags(p) as number,
          logLevel: l.bpf_program__log_level(p) as number,
          state: this.#state,
        },
      );
      adoptNewerSection(spec); // e.g. SEC("netfilter") with libbpf 1.1 (newer-sections.ts)
      programs.set(pname, spec);
    }
    const maps = new Map<string, MapSpec>();
    for (const [mname, m] of opened.maps) {
      const type = l.bpf_map__type(m) as number;
      const valueTypeId = l.bpf_map__btf_value_type_id(m) as number;
      maps.set(
        mname,
        new MapSpec({
          name: mname,
          type,
          keySize: l.bpf_map__key_size(m) as number,
          valueSize: l.bpf_map__value_size(m) as number,
          keyTypeId: l.bpf_map__btf_key_type_id(m) as number,
          valueTypeId,
          declaredValueSize: opened.declared.get(mname)?.valueSize ?? 0,
          internal: l.bpf_map__is_internal(m) as boolean,
          maxEntries: l.bpf_map__max_entries(m) as number,
          flags: l.bpf_map__map_flags(m) as number,
          numaNode: l.bpf_map__numa_node(m) as number,
          mapExtra: BigInt(l.bpf_map__map_extra(m) as number | bigint),
          pinPath: (l.bpf_map__pin_path(m) as string | null) ?? undefined,
          autocreate: l.bpf_map__autocreate(m) as boolean,
          state: this.#state,
          initialValue: this.#initialValue(mname),
        }),
      );
    }
    this.programs = programs;
    this.maps = maps;
  }

  /** Opens an object from its bytes (a clang -target bpf ELF object with BTF). */
  static fromBytes(bytes: Uint8Array, options: { name?: string } = {}): CollectionSpec {
    const name = options.name ?? 'tsbpf';
    checkObject(bytes, name);
    return new CollectionSpec(bytes, name);
  }

  #live(): Opened {
    if (!this.#opened)
      throw new TsbpfError('this spec was loaded or closed already', {
        hint: 'open a new spec to load again',
      });
    return this.#opened;
  }

  /**
   * The initial bytes of a data section (.rodata, .data, .bss, .data.x, .rodata.x), writable until
   * load; what it holds at load() is what the programs start with. Undefined when the object has
   * no such section.
   */
  dataSection(name: string): Uint8Array | undefined {
    const cached = this.#sections.get(name);
    if (cached) return cached.bytes;
    const opened = this.#live();
    const mapName = internalMapName(opened.maps, name);
    if (mapName === undefined) return undefined;
    return this.#sectionOf(mapName, name);
  }

  /** A data-section map's cached initial bytes, one array per map whatever name asked for it. */
  #sectionOf(mapName: string, key: string): Uint8Array {
    for (const entry of this.#sections.values()) if (entry.mapName === mapName) return entry.bytes;
    const opened = this.#live();
    const size = [0];
    const ptr = libbpf().bpf_map__initial_value(opened.maps.get(mapName), size);
    const bytes = ptr ? new Uint8Array(koffi.view(ptr, size[0] ?? 0)).slice() : new Uint8Array(0);
    this.#sections.set(key, { mapName, bytes });
    return bytes;
  }

  /** MapSpec.initialValue of a data-section map (not .kconfig: libbpf fills that itself). */
  #initialValue(mapName: string): { read(): Uint8Array; write(bytes: Uint8Array): void } | undefined {
    const opened = this.#opened;
    const m = opened?.maps.get(mapName);
    if (!m || !libbpf().bpf_map__is_internal(m) || mapName.endsWith('.kconfig')) return undefined;
    return {
      read: () => this.#sectionOf(mapName, mapName),
      write: (bytes) => this.#sectionOf(mapName, mapName).set(bytes),
    };
  }

  /** Sends the recorded changes to a freshly opened object. */
  #apply(opened: Opened, skip: Set<string>): void {
    const l = libbpf();
    for (const [name, spec] of this.programs) {
      const p = opened.programs.get(name);
      if (!p) continue;
      l.bpf_program__set_autoload(p, spec.autoload && !skip.has(name));
      spec.applyTo(p);
    }
    for (const [name, spec] of this.maps) {
      const m = opened.maps.get(name);
      if (m) spec.applyTo(m);
    }
    for (const [section, { mapName, bytes }] of this.#sections) {
      // libbpf 1.1 copies exactly the section's size (bpf_map__set_initial_value refuses others).
      const err = l.bpf_map__set_initial_value(opened.maps.get(mapName), bytes, bytes.byteLength) as number;
      if (err < 0) throw callError(`data section ${section}: set initial value`, -err);
    }
  }

  /** Loads the programs and maps into the kernel. The spec is consumed (closed) either way. */
  async load(options: LoadOptions = {}): Promise<Collection> {
    let opened = this.#live();
    // Before anything is consumed: a map the kernel would refuse for a size left at 0.
    checkMapSizes(this.maps.values());
    this.#opened = undefined;
    this.#state.consumed = 'loaded';
    finalizer.unregister(this);
    const skipped: SkippedProgram[] = [];
    const skip = new Set<string>();
    let live: Opened | undefined = opened;
    try {
      if (options.kernelBtf || options.pinRoot || options.bpfTokenPath !== undefined) {
        live = undefined;
        libbpf().bpf_object__close(opened.obj);
        live = opened = openObject(this.#bytes, this.name, options);
      }
      const pinRoot = options.pinRoot ?? DEFAULT_PIN_ROOT;
      for (;;) {
        if (options.logLevel) {
          for (const p of opened.programs.values()) libbpf().bpf_program__set_log_level(p, options.logLevel);
        }
        this.#apply(opened, skip);
        const pins = pinnedMaps(opened.maps);
        checkPins(pins, pinRoot);
        const failure = typelessProgram(opened) ?? loadOnce(opened);
        if (!failure) {
          verifyPins(pins, opened.maps, pinRoot);
          break;
        }
        live = undefined;
        libbpf().bpf_object__close(opened.obj);
        const failed = failure.program;
        if (options.optionalPrograms !== 'skip-unsupported' || failed === undefined || skip.has(failed)) {
          throw failure.error;
        }
        skip.add(failed);
        skipped.push({ program: failed, reason: failure.error.message, error: failure.error });
        live = opened = openObject(this.#bytes, this.name, options);
      }
    } catch (error) {
      if (live) libbpf().bpf_object__close(live.obj);
      throw error;
    }
    return new Collection(opened, skipped);
  }

  /** Releases libbpf's object without loading. */
  close(): void {
    if (!this.#opened) return;
    this.#state.consumed = 'closed';
    finalizer.unregister(this);
    libbpf().bpf_object__close(this.#opened.obj);
    this.#opened = undefined;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Where libbpf pins LIBBPF_PIN_BY_NAME maps without a pin_root_path (libbpf.c, BPF_FS_DEFAULT_PATH). */
const DEFAULT_PIN_ROOT = '/sys/fs/bpf';

/**
 * A program to load whose SEC() this libbpf does not know (it has no type after open), with its
 * error, found before bpf_object__load: the load would fail anyway, and where the object also calls
 * kfuncs the kernel lacks (a session program on an older kernel) it fails first on those externs,
 * with no program named.
 */
function typelessProgram(opened: Opened): { error: TsbpfError; program: string } | undefined {
  const l = libbpf();
  for (const [program, p] of opened.programs) {
    if (!(l.bpf_program__autoload(p) as boolean) || (l.bpf_program__type(p) as number) !== 0) continue;
    const kind = { name: program, type: 0, section: l.bpf_program__section_name(p) as string };
    const error = unknownSectionError(`load program ${program}`, kind);
    if (error) return { error, program };
  }
  return undefined;
}

/** What to say first when the failed program calls __weak kfuncs this kernel lacks (externs.ts). */
function weakKfuncNote(program: string, opened: Opened | undefined): string {
  const missing = opened ? unresolvedWeakKfuncs(opened.bytes, program) : [];
  if (missing.length === 0) return '';
  const calls = missing.map((k) => `${k.name} (called by ${k.users.join(', ')})`).join(', ');
  const guard = missing.map((k) => `bpf_ksym_exists(${k.name})`).join(' && ');
  return `this kernel has no ${calls}: a __weak kfunc it lacks stays unresolved, and the verifier refuses a call to it that no if (${guard}) guards; `;
}

/** One bpf_object__load; undefined on success, otherwise the error and the program that failed. */
function loadOnce(opened: Opened): { error: TsbpfError; program?: string } | undefined {
  const { result, error, messages } = captureLibbpf(() => libbpf().bpf_object__load(opened.obj) as number);
  if (error) throw error;
  if ((result ?? 0) >= 0) return undefined;
  return describeLoadFailure(-(result ?? 0), messages, opened);
}

/** The error for a failed bpf_object__load from its errno and libbpf's messages (exported for tests). */
export function describeLoadFailure(
  errno: number,
  messages: LibbpfMessage[],
  opened?: Opened,
): { error: TsbpfError; program?: string } {
  const all = messages.map((m) => m.text).join('');
  // libbpf (1.x) prints "prog 'NAME': -- BEGIN PROG LOAD LOG --\n<log>-- END PROG LOAD LOG --".
  const logMatch = /prog '([^']+)': -- BEGIN PROG LOAD LOG --\n([\s\S]*?)-- END PROG LOAD LOG --/.exec(all);
  const progMatch =
    /prog '([^']+)': (?:failed to load|BPF program load failed|failed to find|failed to resolve|failed to relocate|failed to)/.exec(
      all,
    );
  const program = logMatch?.[1] ?? progMatch?.[1];
  const log = logMatch?.[2] ?? '';
  if (errno === EAGAIN) {
    // The verifier (and the BTF checks before it) give up with EAGAIN when a signal is pending,
    // and libbpf retries only a few times: a log then ends mid-program, with nothing wrong in it.
    const what = program ? `load program ${program}` : 'load BPF object';
    const error = new SystemCallError(
      `${what}: signals kept interrupting the kernel's checks (EAGAIN), so the load did not finish`,
      EAGAIN,
      {
        hint: 'load again; if this process receives signals often (a profiler, an interval timer, another process), pause them during load()',
      },
    );
    return program ? { program, error } : { error };
  }
  const what = program ? `load program ${program}` : 'load BPF object';
  const texts = messages.map((m) => m.text.trim());
  // libbpf resolves the __ksym externs before it loads any program, and names none.
  const extern = program ? undefined : externLoadError(what, texts, opened?.bytes);
  if (extern) return { error: extern };
  const loaded = program ? opened?.programs.get(program) : undefined;
  if (program && loaded) {
    // A kind the kernel is too old for can fail in the verifier (a session program's kfuncs):
    // said before the verifier's log would be.
    const missing = missingAttachTypeError(`load program ${program}`, {
      expectedAttachType: libbpf().bpf_program__expected_attach_type(loaded) as number,
      section: libbpf().bpf_program__section_name(loaded) as string,
    });
    if (missing) return { program, error: missing };
  }
  if (program && log.trim() && errno !== EPERM) {
    const summary = summarizeVerifierLog(log);
    const message = verifierMessage(program, summary);
    const details: { program: string; log: string; sourceLine?: string; instruction?: number } = {
      program,
      log,
    };
    if (summary.sourceLine !== undefined) details.sourceLine = summary.sourceLine;
    if (summary.instruction !== undefined) details.instruction = summary.instruction;
    return {
      program,
      error: new VerifierError(message, details, {
        hint:
          errno === E2BIG || errno === ENOSPC
            ? 'the program is too large or complex for the verifier; split it or bound its loops'
            : `${weakKfuncNote(program, opened)}${summary.sourceLine === undefined ? '' : 'the source line above is where it failed; '}the error's .log holds the verifier's whole log (a created project's main.ts prints it with TSBPF_VERBOSE=1)`,
      }),
    };
  }
  if (program && loaded) {
    const kind = {
      name: program,
      type: libbpf().bpf_program__type(loaded) as number,
      section: libbpf().bpf_program__section_name(loaded) as string,
    };
    // A program with no type never gets here: typelessProgram() refuses it before the load.
    const error = btfAttachLoadError(what, errno, texts, kind) ?? missingProgTypeError(what, errno, kind);
    if (error) return { program, error };
  }
  // libbpf prints "map 'NAME': failed to create: <errno>" when the kernel refuses a map.
  const mapName = program ? undefined : /map '([^']+)': failed to create: /.exec(all)?.[1];
  const map = mapName === undefined ? undefined : opened?.maps.get(mapName);
  if (mapName !== undefined && map) {
    const error = missingMapTypeError(what, errno, {
      name: mapName,
      type: libbpf().bpf_map__type(map) as number,
    });
    if (error) return { error };
  }
  const pins: PinnedMap[] = opened ? pinnedMaps(opened.maps) : [];
  if (errno === EACCES && !program && pins.length > 0) {
    // bpf_obj_get or bpf_obj_pin refused: something at a pin path, or the folder, is not ours to use.
    const paths = pinPathsIn(all, pins);
    const error = new PermissionError(
      `${what}: permission denied (EACCES) at the pin path ${paths.join(', ')}${tail(messages)}`,
      {
        hint: `check what is at ${paths.join(', ')} and who owns it (\`ls -lad ${paths.join(' ')}\`): remove it if it is not yours, or pass the pinRoot load option`,
      },
    );
    return { error };
  }
  const ptr = program ? opened?.programs.get(program) : undefined;
  const type = ptr ? (libbpf().bpf_program__type(ptr) as number) : undefined;
  const error = callError(what, errno, [], undefined, capabilitiesFor(type));
  const extra = tail(messages.filter((m) => !m.text.includes('PROG LOAD LOG')));
  const wrapped = extra ? rewrap(error, error.message + extra) : error;
  return program ? { program, error: wrapped } : { error: wrapped };
}

function rewrap(error: TsbpfError, message: string): TsbpfError {
  const Ctor = error.constructor as new (m: string, o: { hint?: string; cause?: unknown }) => TsbpfError;
  const copy = new Ctor(message, { hint: error.hint, cause: error.cause });
  if ('errno' in error) Object.assign(copy, { errno: (error as { errno: number }).errno });
  return copy;
}

/** libbpf names internal maps "<object prefix><section>" truncated to 15 chars (BPF_OBJ_NAME_LEN - 1). */
function internalMapName(maps: Map<string, Pointer>, section: string): string | undefined {
  const l = libbpf();
  for (const [name, m] of maps) {
    if (!l.bpf_map__is_internal(m)) continue;
    if (name === section || name.endsWith(section) || (section.length > 15 && section.endsWith(name)))
      return name;
  }
  return undefined;
}

// include/uapi/linux/bpf.h
const BPF_F_RDONLY = 1 << 3;
const BPF_F_RDONLY_PROG = 1 << 7;
const BPF_F_MMAPABLE = 1 << 10;

/** A data section's memory, mapped by us; `readOnly` sections are handed out as copies. */
interface Section {
  view: Uint8Array;
  range: MappedRange;
  readOnly: boolean;
}

/**
 * Maps a data section's kernel map (a BPF_F_MMAPABLE array, Linux 5.5+), so that dataSection() is
 * the programs' globals themselves. Our own mapping, not libbpf's image of the map: libbpf 1.1
 * keeps that image a private copy (it maps the map there only for skeletons), newer versions map the
 * map there in load, and either way bpf_object__close unmaps it under any view JavaScript kept
 * (ffi/mapped.ts). Read-only ones (.rodata, .kconfig: frozen by libbpf) are mapped PROT_READ, where a
 * store through a Uint8Array would fault. Undefined when the map cannot be mapped: dataSection()
 * then reads it through lookups.
 */
function mapSection(map: BpfMap): Section | undefined {
  if (!(map.flags & BPF_F_MMAPABLE)) return undefined;
  const readOnly = (map.flags & (BPF_F_RDONLY_PROG | BPF_F_RDONLY)) !== 0;
  const page = libc().getpagesize() as number;
  // kernel/bpf/arraymap.c (array_map_mmap): whole pages of max_entries values, each rounded up to 8.
  const length = Math.ceil((Math.ceil(map.valueSize / 8) * 8 * map.maxEntries) / page) * page;
  try {
    const prot = readOnly ? PROT_READ : PROT_READ | PROT_WRITE;
    const { buffer, range } = mapShared(map.fd, length, prot, 0, `map ${map.name}`);
    return { view: new Uint8Array(buffer, 0, map.valueSize), range, readOnly };
  } catch (error) {
    debug(`map ${map.name}: ${(error as Error).message}; reading it through lookups`);
    return undefined;
  }
}

/** Everything a Collection must release, kept apart so the finalizer does not hold the Collection. */
class Resources {
  obj: Pointer;
  links = new Set<Link>();
  closables = new Set<{ close(): void }>();
  /** The data sections' mappings: made private copies at close, unmapped once their views are garbage. */
  ranges: MappedRange[] = [];
  closed = false;
  constructor(obj: Pointer) {
    this.obj = obj;
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of [...this.closables]) c.close();
    for (const link of [...this.links]) link.close();
    this.#release();
  }

  /** close() with the links detached on worker threads, a few at a time (their kernel waits overlap). */
  async closeAsync(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of [...this.closables]) c.close();
    // Every link is detached before the object goes, whichever fails; a few at a time (link.ts).
    const results = await Promise.allSettled([...this.links].map((link) => link.closeAsync()));
    this.#release();
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  #release(): void {
    // Kept views go on reading the globals' last values, in memory of their own (ffi/mapped.ts).
    for (const range of this.ranges) range.release(true);
    libbpf().bpf_object__close(this.obj);
    this.obj = null;
  }
}

export class Collection implements AsyncDisposable, Disposable {
  /** Programs the load left out (optionalPrograms: 'skip-unsupported'), with the reason. */
  readonly skipped: readonly SkippedProgram[];
  readonly #resources: Resources;
  readonly #programs = new Map<string, Program>();
  readonly #maps = new Map<string, BpfMap>();
  readonly #mapPtrs: Map<string, Pointer>;
  /** Programs of the object that load() left out (autoload off), and maps it did not create (autocreate off). */
  readonly #notLoaded = new Set<string>();
  readonly #notCreated = new Set<string>();
  /** Mapped data sections by map name; null: not mappable, read through lookups. */
  readonly #sections = new Map<string, Section | null>();
  readonly #name: string;
  /** Registers a link with this collection, which closes it (programs' links, struct_ops links). */
  readonly #adopt: (link: Link) => Link;
  #closing: Promise<void> | undefined;

  /** @internal */
  constructor(opened: Opened, skipped: SkippedProgram[]) {
    this.skipped = skipped;
    this.#name = opened.name;
    this.#resources = new Resources(opened.obj);
    this.#mapPtrs = opened.maps;
    finalizer.register(this, this.#resources, this);
    const l = libbpf();
    const owner = {
      adopt: (link: Link): Link => {
        this.#resources.links.add(link);
        (link as unknown as { onClose(fn: (l: Link) => void): void }).onClose((closed) =>
          this.#resources.links.delete(closed),
        );
        return link;
      },
    };
    this.#adopt = owner.adopt;
    const usdtSpecs = opened.maps.get('__bpf_usdt_specs');
    const usdtSpecSize = usdtSpecs ? (l.bpf_map__value_size(usdtSpecs) as number) : undefined;
    for (const [name, p] of opened.programs) {
      if ((l.bpf_program__fd(p) as number) >= 0)
        this.#programs.set(name, new Program(p, owner, usdtSpecSize));
      else if (!skipped.some((s) => s.program === name)) this.#notLoaded.add(name);
    }
    for (const [name, m] of opened.maps) {
      const fd = l.bpf_map__fd(m) as number;
      // libbpf >= 1.4 holds a placeholder fd for a map it did not create (autocreate off).
      if (!(l.bpf_map__autocreate(m) as boolean)) this.#notCreated.add(name);
      if (fd < 0 || this.#notCreated.has(name)) continue;
      this.#maps.set(
        name,
        new BpfMap(fd, {
          name,
          type: l.bpf_map__type(m) as number,
          keySize: l.bpf_map__key_size(m) as number,
          valueSize: l.bpf_map__value_size(m) as number,
          maxEntries: l.bpf_map__max_entries(m) as number,
          flags: l.bpf_map__map_flags(m) as number,
        }),
      );
    }
  }

  get closed(): boolean {
    return this.#resources.closed;
  }

  /** Throws when closed: `what` (a program, map or section) names what was asked for. */
  #check(what: string): void {
    if (this.#resources.closed) {
      throw new UsageError(`${what}: collection ${this.#name} is closed`, {
        hint: 'use its programs, maps and data sections before close(), or load the object again',
      });
    }
  }

  /** Names of the loaded programs. */
  get programNames(): string[] {
    return [...this.#programs.keys()];
  }

  get mapNames(): string[] {
    return [...this.#maps.keys()];
  }

  program(name: string): Program {
    this.#check(`program ${name}`);
    const p = this.#programs.get(name);
    if (!p) {
      const skipped = this.skipped.find((s) => s.program === name);
      if (skipped) throw new TsbpfError(`program ${name} was skipped at load: ${skipped.reason}`);
      if (this.#notLoaded.has(name)) {
        throw new UsageError(`program ${name} was not loaded: its autoload was off at load()`, {
          hint: `turn its autoload on before load (ProgramSpec.autoload) to use it, or use it only where it is on; collection.programNames lists the loaded programs`,
        });
      }
      throw new TsbpfError(`no program ${name} in this collection`, {
        hint: `its programs: ${this.programNames.join(', ') || '(none)'}`,
      });
    }
    return p;
  }

  /**
   * Registers the struct_ops map `name` (an ops table such as a struct tcp_congestion_ops) with the
   * kernel; the link unregisters it. StructOpsMap.attach() calls this.
   */
  attachStructOps(name: string): Link {
    const map = this.map(name);
    return this.#adopt(structOpsLink(map, this.#mapPtrs.get(name)));
  }

  map(name: string): BpfMap {
    this.#check(`map ${name}`);
    const m = this.#maps.get(name);
    if (!m && this.#notCreated.has(name)) {
      throw new UsageError(`map ${name} was not created: its autocreate was off at load()`, {
        hint: `turn its autocreate on before load (MapSpec.autocreate) to use it, or use it only where it is on; collection.mapNames lists the created maps`,
      });
    }
    if (!m)
      throw new TsbpfError(`no map ${name} in this collection`, {
        hint: `its maps: ${this.mapNames.join(', ') || '(none)'}`,
      });
    return m;
  }

  /**
   * A data section's memory. .data and .bss (and .data.x) are the live, mmaped globals: writes reach
   * the programs at once. Read-only sections (.rodata, frozen at load, and .kconfig) are copies.
   * After close() this throws, and an array it returned before keeps the last values in memory of
   * its own (no longer the programs'; see ffi/mapped.ts): it never faults.
   */
  dataSection(name: string): Uint8Array | undefined {
    this.#check(`data section ${name}`);
    const mapName = internalMapName(this.#mapPtrs, name);
    const map = mapName === undefined ? undefined : this.#maps.get(mapName);
    if (mapName === undefined || map === undefined) return undefined;
    // One mapping per section for the collection's life: the programs' memory does not move until
    // close, and every koffi.view costs native memory that is not given back (generated Variables
    // call this on each get and set).
    let section = this.#sections.get(mapName);
    if (section === undefined) {
      section = mapSection(map) ?? null;
      this.#sections.set(mapName, section);
      if (section) this.#resources.ranges.push(section.range);
    }
    // Not mmapable (old kernels): read it through the map.
    if (section === null) return map.lookup(new Uint8Array(4));
    return section.readOnly ? section.view.slice() : section.view;
  }

  /** @internal something (a reader) to close with the collection. */
  own(closable: { close(): void }): void {
    this.#resources.closables.add(closable);
  }

  /** @internal */
  disown(closable: { close(): void }): void {
    this.#resources.closables.delete(closable);
  }

  /**
   * Detaches every link, closes readers, and releases programs and maps. Idempotent. Blocks for the
   * kernel's wait on each detach (tens of milliseconds per tracepoint or uprobe): a server that
   * must keep answering uses closeAsync().
   */
  close(): void {
    if (this.#begin()) this.#resources.close();
  }

  /**
   * close() without blocking the event loop: the links are detached on worker threads, then the
   * programs and maps released. The collection counts as closed at once (close() after it does
   * nothing); calling it again returns the same promise. `await using` calls it.
   */
  closeAsync(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closing = this.#begin() ? this.#resources.closeAsync() : Promise.resolve();
    return this.#closing;
  }

  /** Marks everything closed; false when it was already. */
  #begin(): boolean {
    if (this.#resources.closed) return false;
    finalizer.unregister(this);
    this.#sections.clear();
    for (const p of this.#programs.values()) p.invalidate();
    for (const m of this.#maps.values()) m.invalidate();
    return true;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.closeAsync();
  }
}
