// `tsbpf gen` as a library: compile C sources for each target (linking several sources into one
// object), or take prebuilt objects, then write `<ident>_<target>.o` and the typed loader
// `<ident>.ts`. `prepare` does the work and returns the files without touching the output
// folder; `generate` also writes them, atomically, so a failure leaves the old outputs whole.
// Names from an object are untrusted: notes and errors show them through printable(), and errors
// raised while reading an object or generating its loader go through printableError().

import { mkdtempSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { execa } from 'execa';
import { OutputSet, sweepTemporaries } from '../atomic.js';
import type { ObjectInfo } from '../btf/object.js';
import { printableError } from '../codegen/escape.js';
import { splitFieldKey } from '../codegen/field-as.js';
import type { LoaderObject } from '../codegen/loader.js';
import type { FieldChoice } from '../codegen/types.js';
import { FormatError, UsageError } from '../errors.js';
import { printable } from '../printable.js';
import { userErrorOf } from '../system-error.js';
import { bigEndianLinkFix, bpftoolLinksBigEndian } from '../toolchain/bpftool-link.js';
import { compile } from '../toolchain/compile.js';
import { findToolchain, type Toolchain } from '../toolchain/discover.js';
import { clangArgs, defaultIncludeDirs } from '../toolchain/flags.js';
import { resolveTargets, type Target } from '../toolchain/targets.js';
import { trackScratch } from './interrupt.js';
import { commonJsNote } from './module-format.js';
import { checkIdent, similarNames } from './naming.js';
import { Limiter } from './pool.js';
import { checkSource } from './source-check.js';

/** ELF e_machine of eBPF objects (EM_BPF in include/uapi/linux/elf-em.h). */
const EM_BPF = 247;
/** BPF_MAP_TYPE_PERF_EVENT_ARRAY and BPF_MAP_TYPE_RINGBUF (include/uapi/linux/bpf.h). */
const PERF_EVENT_ARRAY = 4;
const RINGBUF = 27;

export interface GenerateOptions {
  ident: string;
  /** Folder for the outputs (default: cwd). */
  outDir?: string;
  /** C sources to compile; several are linked into one object. */
  sources?: readonly string[];
  /** Prebuilt objects instead of sources: at most one per byte order. */
  objfiles?: readonly string[];
  /** Target names (default bpfel, bpfeb); sources only. */
  targets?: readonly string[];
  cflags?: readonly string[];
  /** The project's include folders, searched before tsbpf's headers. */
  includeDirs?: readonly string[];
  /** The folder that holds vmlinux.h. */
  vmlinuxDir?: string;
  /** Extra types to emit (`--type`). */
  types?: readonly string[];
  /** Ring buffer / perf array map -> event type (`--event map=type`). */
  events?: Readonly<Record<string, string>>;
  /** `TYPE.FIELD` -> how that char[N] field decodes (`--field-as exec_event.args=strings`). */
  fieldAs?: Readonly<Record<string, FieldChoice>>;
  /** Inline the objects in the TS file instead of writing them beside it. */
  embed?: boolean;
  /** Strip DWARF from compiled objects (default true). */
  strip?: boolean;
  toolchain?: Toolchain;
  /** Folder clang runs in and relative paths are resolved against (default: process.cwd()). */
  cwd?: string;
  /** Bounds concurrent clang processes; a build shares one between its programs. */
  limiter?: Limiter;
}

export interface OutputFile {
  path: string;
  data: string | Uint8Array;
}

export interface Prepared {
  ident: string;
  outDir: string;
  /** The files to write, objects first and the loader last. */
  files: OutputFile[];
  /** Every file the outputs were made from: sources and the headers they include, or the objfiles. */
  inputs: string[];
  /** clang runs (not counting a types-only compile). */
  compiled: number;
  /** A types-only compile was needed for types the object's BTF lacks. */
  typesCompiled: boolean;
  /** Advice about the result (an event map without an event type). */
  notes: string[];
}

interface BuiltObject {
  file: string;
  bytes: Uint8Array;
  info: ObjectInfo;
  endian: 'little' | 'big';
  target?: Target;
}

/** process.arch values of a bpf_tracing.h arch, for loaders with per-architecture objects. */
const nodeArchs: Record<string, Record<'little' | 'big', string[]>> = {
  x86: { little: ['x64', 'ia32'], big: [] },
  arm64: { little: ['arm64'], big: ['arm64'] },
  arm: { little: ['arm'], big: ['arm'] },
  s390: { little: [], big: ['s390x'] },
  powerpc: { little: ['ppc64'], big: ['ppc64'] },
  riscv: { little: ['riscv64'], big: [] },
  loongarch: { little: ['loong64'], big: [] },
  mips: { little: ['mipsel'], big: ['mips'] },
};

/**
 * The modules that read objects and write the loader. Nothing needs them before clang has made an
 * object, so `prepare` starts clang first and loads them while it runs (a cold `tsbpf build` then
 * does not wait for them before its first clang).
 */
async function loadGenerators() {
  const [object, loader, typesOnly] = await Promise.all([
    import('../btf/object.js'),
    import('../codegen/loader.js'),
    import('./types-only.js'),
  ]);
  return {
    // Errors about an object name its sections, maps and types: made printable for the terminal.
    readObject: (bytes: Uint8Array, file: string) => {
      try {
        return object.readObject(bytes, file);
      } catch (error) {
        throw printableError(error);
      }
    },
    findType: loader.findType,
    generateLoader: loader.generateLoader,
    typeNames: loader.typeNames,
    compileTypes: typesOnly.compileTypes,
    linkObjects: typesOnly.linkObjects,
  };
}

type Generators = Awaited<ReturnType<typeof loadGenerators>>;

/** Generic targets (bpfel, bpfeb) serve any host of their byte order; arch targets only theirs. */
function archsOf(target: Target): string[] {
  if (target.suffix === 'bpfel' || target.suffix === 'bpfeb' || !target.arch) return [];
  return nodeArchs[target.arch]?.[target.endian] ?? [];
}

/** Compiles or reads the objects and generates the loader, without writing anything. */
export async function prepare(options: GenerateOptions): Promise<Prepared> {
  const ident = checkIdent(options.ident);
  const cwd = resolve(options.cwd ?? process.cwd());
  const outDir = resolve(cwd, options.outDir ?? '.');
  const sources = (options.sources ?? []).map((s) => resolve(cwd, s));
  const objfiles = (options.objfiles ?? []).map((s) => resolve(cwd, s));
  if (sources.length > 0 && objfiles.length > 0) {
    throw new UsageError('give C sources or --objfile, not both', {
      hint: '--objfile takes objects compiled elsewhere',
    });
  }
  if (sources.length === 0 && objfiles.length === 0) {
    throw new UsageError(`${ident}: nothing to generate from`, {
      hint: 'name C sources, or prebuilt objects with --objfile',
    });
  }
  for (const source of sources) checkSource(source);

  // Made and registered in one synchronous step, so an interrupt never misses it.
  const scratch = mkdtempSync(join(tmpdir(), 'tsbpf-gen-'));
  const untrack = trackScratch(scratch);
  try {
    let generators: Promise<Generators> | undefined;
    const later = () => {
      generators ??= loadGenerators();
      return generators;
    };
    const building =
      sources.length > 0
        ? compileSources(ident, sources, options, cwd, scratch, later)
        : readObjfiles(ident, objfiles, options, later);
    // compileSources has returned at its first await, with clang about to start (or the tools
    // being found): the rest loads meanwhile.
    const loading = later();
    // Awaited below; this only keeps a failed compile from leaving the load's rejection unhandled.
    loading.catch(() => undefined);
    const built = await building;
    const { findType, generateLoader, compileTypes } = await loading;
    const objects = built.objects;
    checkConsistent(objects);
    const primary = objects.find((o) => o.endian === 'little') ?? objects[0]!;

    // Types the object's BTF lacks come from a types-only compile of the same sources.
    const types = options.types ?? [];
    const events = options.events ?? {};
    const fieldAs = options.fieldAs ?? {};
    const fieldTypes = Object.keys(fieldAs).flatMap((key) => splitFieldKey(key)?.type ?? []);
    const wanted = [...new Set([...types, ...Object.values(events), ...fieldTypes])];
    const missing = wanted.filter((name) => findType(primary.info.btf, name) === undefined);
    let typesFrom: ObjectInfo | undefined;
    if (missing.length > 0 && sources.length > 0) {
      typesFrom = await compileTypes({
        toolchain: built.toolchain!,
        sources,
        compile: compileSettings(options, primary.target!, cwd),
        names: missing,
        scratch,
      }).catch((error: unknown) => {
        throw printableError(error);
      });
    }
    const stillMissing = missing.filter(
      (name) => findType((typesFrom ?? primary.info).btf, name) === undefined,
    );
    if (stillMissing.length > 0) {
      throw await missingTypeError(
        stillMissing,
        typesFrom ?? primary.info,
        sources,
        objfiles,
        built.toolchain,
        options,
        cwd,
        await loading,
      );
    }

    const loaderObjects: LoaderObject[] = objects.map((o) => ({
      file: o.file,
      endian: o.endian,
      archs: o.target ? archsOf(o.target) : [],
      ...(options.embed ? { bytes: o.bytes } : {}),
    }));
    let ts: string;
    try {
      ts = generateLoader(primary.info, {
        ident,
        objects: loaderObjects,
        missing: built.dropped.map((t) => ({
          file: `${ident}_${t.suffix}.o`,
          endian: t.endian,
          hint: `rebuild on a machine whose bpftool links big-endian objects: ${bigEndianLinkFix}`,
        })),
        types,
        events,
        fieldAs,
        ...(typesFrom ? { typesFrom } : {}),
      });
    } catch (error) {
      throw printableError(error);
    }
    // Ring buffers and perf arrays left without an event type read raw bytes: say how to bind one.
    const notes: string[] = [...built.notes];
    for (const map of primary.info.maps) {
      if ((map.type !== RINGBUF && map.type !== PERF_EVENT_ARRAY) || map.name in events) continue;
      const value = map.valueType === undefined ? undefined : primary.info.btf.resolve(map.valueType).kind;
      if (value === 'struct' || value === 'union') continue;
      notes.push(
        printable(
          `${map.name} has no event type, so its reader yields raw bytes; bind one with tsbpf gen --event ${map.name}=<type>, or in tsbpf build's config with "events": { "${map.name}": "<type>" }`,
        ),
      );
    }
    const moduleNote = commonJsNote(outDir, ident, options.embed === true);
    if (moduleNote) notes.push(moduleNote);
    const files: OutputFile[] = options.embed
      ? []
      : objects.map((o) => ({ path: join(outDir, o.file), data: o.bytes }));
    files.push({ path: join(outDir, `${ident}.ts`), data: ts });
    return {
      ident,
      outDir,
      files,
      inputs: built.inputs,
      compiled: built.compiled,
      typesCompiled: typesFrom !== undefined,
      notes,
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
    untrack();
  }
}

/** prepare(), then writes the files atomically (all or none). Returns what was written. */
export async function generate(options: GenerateOptions): Promise<Prepared> {
  const prepared = await prepare(options);
  sweepTemporaries(prepared.outDir);
  writeOutputs(prepared.files);
  return prepared;
}

/** Writes files so that either all of them replace the old ones or none does. */
export function writeOutputs(files: readonly OutputFile[]): void {
  const set = new OutputSet();
  try {
    for (const file of files) set.stage(file.path, file.data);
    set.commit();
  } catch (error) {
    set.abort();
    throw error;
  }
}

function compileSettings(options: GenerateOptions, target: Target, cwd: string) {
  return {
    target,
    cflags: options.cflags ?? [],
    includeDirs: defaultIncludeDirs({
      projectDirs: (options.includeDirs ?? []).map((d) => resolve(cwd, d)),
      ...(options.vmlinuxDir ? { vmlinuxDir: resolve(cwd, options.vmlinuxDir) } : {}),
    }),
    cwd,
    color: false,
  };
}

async function compileSources(
  ident: string,
  sources: string[],
  options: GenerateOptions,
  cwd: string,
  scratch: string,
  later: () => Promise<Generators>,
): Promise<{
  objects: BuiltObject[];
  inputs: string[];
  compiled: number;
  toolchain: Toolchain;
  dropped: Target[];
  notes: string[];
}> {
  const toolchain = options.toolchain ?? (await findToolchain());
  const { targets, dropped, note } = await linkableTargets(
    resolveTargets(options.targets && options.targets.length > 0 ? options.targets : ['bpfel', 'bpfeb']),
    sources.length,
    toolchain,
    ident,
  );
  const limiter = options.limiter ?? new Limiter(Number.POSITIVE_INFINITY);
  const inputs = new Set<string>(sources);
  let compiled = 0;
  const objects = await allFinished(
    targets.map(async (target): Promise<BuiltObject> => {
      const settings = compileSettings(options, target, cwd);
      const parts = await allFinished(
        sources.map((source, i) =>
          limiter.run(async () => {
            const result = await compile({
              ...settings,
              toolchain,
              source,
              output: join(scratch, `${i}-${target.suffix}.o`),
              strip: options.strip ?? true,
              depfile: join(scratch, `${i}-${target.suffix}.d`),
            });
            compiled++;
            for (const dep of result.dependencies ?? []) inputs.add(resolve(cwd, dep));
            return result.output;
          }),
        ),
      );
      const file = `${ident}_${target.suffix}.o`;
      let path = parts[0]!;
      if (parts.length > 1) {
        path = join(scratch, file);
        const { linkObjects } = await later();
        await limiter.run(() => linkObjects(toolchain, path, parts));
      }
      const bytes = new Uint8Array(await readFile(path));
      const { readObject } = await later();
      return { file, bytes, info: readObject(bytes, file), endian: target.endian, target };
    }),
  );
  return { objects, inputs: [...inputs].sort(), compiled, toolchain, dropped, notes: note ? [note] : [] };
}

/**
 * Promise.all that settles only when every job has: the caller removes the scratch folder the
 * jobs write into, and a job still writing there would turn the first failure into ENOTEMPTY.
 */
async function allFinished<T>(jobs: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(jobs);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

/**
 * The default targets (bpfel, bpfeb) of a program of several C files, less bpfeb when this
 * machine's bpftool cannot link big-endian objects: the program still builds, for little-endian
 * hosts, with a note saying why; its loader names the missing object on a big-endian host.
 * Targets the user chose are kept as they are (and linking tells them what fails).
 */
async function linkableTargets(
  targets: Target[],
  sourceCount: number,
  toolchain: Toolchain,
  ident: string,
): Promise<{ targets: Target[]; dropped: Target[]; note?: string }> {
  const isDefault = targets.length === 2 && targets.every((t, i) => t.suffix === ['bpfel', 'bpfeb'][i]);
  if (sourceCount < 2 || !isDefault || !toolchain.bpftool) return { targets, dropped: [] };
  if (await bpftoolLinksBigEndian(toolchain.clang, toolchain.bpftool)) return { targets, dropped: [] };
  return {
    targets: targets.filter((t) => t.endian === 'little'),
    dropped: targets.filter((t) => t.endian === 'big'),
    note: printable(
      `${ident}: built for bpfel only: bpftool ${toolchain.bpftool.version} cannot link big-endian objects, so ${ident}_bpfeb.o (for big-endian hosts) was not made; to make it, ${bigEndianLinkFix}`,
    ),
  };
}

async function readObjfiles(
  ident: string,
  objfiles: string[],
  options: GenerateOptions,
  later: () => Promise<Generators>,
): Promise<{
  objects: BuiltObject[];
  inputs: string[];
  compiled: number;
  toolchain: undefined;
  dropped: Target[];
  notes: string[];
}> {
  if (options.targets && options.targets.length > 0) {
    throw new UsageError(
      '--target applies to C sources; with --objfile the byte order comes from each object',
    );
  }
  const { readObject } = await later();
  const objects: BuiltObject[] = [];
  for (const path of objfiles) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch (error) {
      const known = userErrorOf(error, path);
      throw new UsageError(`--objfile ${known?.message ?? `${path}: ${(error as Error).message}`}`, {
        cause: error,
        hint: known?.hint,
      });
    }
    const info = readObject(bytes, path);
    if (info.elf.machine !== EM_BPF) {
      throw new UsageError(
        `${path} is not an eBPF object (ELF machine ${info.elf.machine}, expected ${EM_BPF})`,
        {
          hint: 'compile it with clang -target bpf',
        },
      );
    }
    const endian = info.littleEndian ? 'little' : 'big';
    const twin = objects.find((o) => o.endian === endian);
    if (twin) {
      throw new UsageError(`--objfile ${basename(path)} and ${twin.file} are both ${endian}-endian`, {
        hint: 'give at most one object per byte order (one bpfel, one bpfeb)',
      });
    }
    objects.push({ file: `${ident}_${info.littleEndian ? 'bpfel' : 'bpfeb'}.o`, bytes, info, endian });
  }
  // Little-endian first, as targets default to bpfel,bpfeb: the loader is the same either way.
  objects.sort((a, b) => (a.endian === b.endian ? 0 : a.endian === 'little' ? -1 : 1));
  return { objects, inputs: [...objfiles].sort(), compiled: 0, toolchain: undefined, dropped: [], notes: [] };
}

/** Every object of one loader must declare the same programs, maps and variables. */
function checkConsistent(objects: BuiltObject[]): void {
  const shape = (info: ObjectInfo) =>
    JSON.stringify({
      programs: info.programs.map((p) => p.name).sort(),
      maps: info.maps.map((m) => `${m.name}:${m.type}`).sort(),
      variables: info.dataSections
        .flatMap((s) => s.variables.map((v) => `${s.name}:${v.name}:${v.offset}`))
        .sort(),
    });
  const [first, ...rest] = objects;
  for (const other of rest) {
    if (shape(other.info) !== shape(first!.info)) {
      throw new FormatError(
        `${first!.file} and ${other.file} declare different programs, maps or variables`,
        {
          hint: 'one loader serves every object: build them from the same source (and the same #ifdefs)',
        },
      );
    }
  }
}

/** "No type X", with the names closest to it from the BTF and, for sources, the preprocessed C. */
async function missingTypeError(
  names: string[],
  info: ObjectInfo,
  sources: string[],
  objfiles: string[],
  toolchain: Toolchain | undefined,
  options: GenerateOptions,
  cwd: string,
  { typeNames }: Generators,
): Promise<UsageError> {
  const candidates = new Set(typeNames(info.btf));
  if (sources.length > 0 && toolchain) {
    for (const name of await sourceTypeNames(toolchain, sources, options, cwd)) candidates.add(name);
  }
  const where =
    sources.length > 0
      ? sources.map((s) => basename(s)).join(', ')
      : objfiles.map((s) => basename(s)).join(', ');
  const lines = names.map((name) => {
    const bare = name.replace(/^\s*(struct|union|enum)\s+/, '').trim();
    const similar = similarNames(
      bare,
      [...candidates].filter((c) => c !== bare),
    );
    return printable(
      `  ${name}: ${similar.length > 0 ? `similar names: ${similar.join(', ')}` : 'no similar names'}`,
    );
  });
  const what = printable(
    names.length === 1
      ? `no type named '${names[0]}'`
      : `no types named ${names.map((n) => `'${n}'`).join(', ')}`,
  );
  if (sources.length === 0) {
    // clang emits BTF only for the types globals, function signatures and CO-RE reads use.
    const it = names.length === 1 ? 'it' : 'them';
    return new UsageError(
      `${what} in ${where}: clang emitted no BTF for ${it} (a type reached only through local variables gets none)\n${lines.join('\n')}`,
      { hint: objectTypeHint(names[0]!) },
    );
  }
  return new UsageError(`${what} in ${where}\n${lines.join('\n')}`, {
    hint: 'check the spelling; name a struct, union, enum or typedef the C source declares',
  });
}

/** How to get a type into BTF that an object lacks: from the C source, or a global that uses it. */
function objectTypeHint(name: string): string {
  const match = /^\s*(struct|union|enum)?\s*([A-Za-z_]\w*)\s*$/.exec(name);
  const type = match ? `${match[1] ?? 'struct'} ${match[2]}` : 'struct event';
  const variable = `unused_${match?.[2] ?? 'event'}`;
  return printable(
    'generate from the C source instead of --objfile (tsbpf then compiles the types it needs), or make a global use ' +
      `the type and compile the object again, e.g. \`const ${type} *${variable};\` or ` +
      `\`${type} *unused __attribute__((unused));\``,
  );
}

/** struct/union/enum tags and simple typedef names the preprocessed sources declare. */
async function sourceTypeNames(
  toolchain: Toolchain,
  sources: string[],
  options: GenerateOptions,
  cwd: string,
): Promise<string[]> {
  const names = new Set<string>();
  const target = resolveTargets(['bpfel'])[0]!;
  for (const source of sources) {
    const settings = compileSettings(options, target, cwd);
    const args = clangArgs({ ...settings, source, output: '-' }).filter((a) => a !== '-c');
    const result = await execa(toolchain.clang.path, ['-E', ...args], {
      cwd,
      reject: false,
      stdin: 'ignore',
      maxBuffer: 1 << 30,
    });
    if (result.failed) continue;
    const text = String(result.stdout);
    for (const m of text.matchAll(/\b(?:struct|union|enum)\s+([A-Za-z_]\w*)/g)) names.add(m[1]!);
    for (const m of text.matchAll(/\btypedef\b[^;{}()]*?\b([A-Za-z_]\w*)\s*;/g)) names.add(m[1]!);
    for (const m of text.matchAll(/}\s*([A-Za-z_]\w*)\s*;/g)) names.add(m[1]!);
  }
  return [...names];
}
