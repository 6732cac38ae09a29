// The build config: `tsbpf.config.json`, or the "tsbpf" key of package.json. Found by walking up
// from the working directory to the project root, and used only when the current user owns it;
// paths in it are relative to the file's folder.
// The result is fully resolved (absolute paths, defaults filled in) so the builder never
// needs to know where a value came from, except to name it in an error.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { FieldChoice } from '../codegen/types.js';
import { ConfigError } from '../errors.js';
import { describeUser } from '../linux.js';
import { userErrorOf } from '../system-error.js';
import { resolveTargets } from '../toolchain/targets.js';
import { fieldAsSchema } from './field-as.js';
import { checkIdent } from './naming.js';
import {
  array,
  boolean,
  type Checker,
  object,
  optional,
  record,
  required,
  type SchemaPath,
  schemaError,
  string,
  stringOrArray,
} from './schema.js';

export const configFileName = 'tsbpf.config.json';

/** The targets every program is built for unless the config or the command line says otherwise. */
export const defaultTargets: readonly string[] = ['bpfel', 'bpfeb'];

/** One `tsbpf gen` worth of work: a set of C files compiled, linked and turned into `<ident>.ts`. */
export interface ProgramConfig {
  ident: string;
  /** Absolute paths of the C sources (one object per target; several sources are linked). */
  sources: string[];
  /** Absolute folder for `<ident>_<target>.o` and `<ident>.ts`. */
  outDir: string;
  /** Extra BTF types to emit (C names, with or without `struct `). */
  types: string[];
  /** Ring buffer / perf event array map name -> the C type of its events. */
  events: Record<string, string>;
  /** `TYPE.FIELD` -> how that char[N] field decodes (default: a string up to the first NUL). */
  fieldAs: Record<string, FieldChoice>;
  cflags: string[];
  targets: string[];
  /** Include folders for this program (after the config's global ones). */
  includeDirs: string[];
  embed: boolean;
  strip: boolean;
  /** Where the entry sits in the config, for error messages: `programs[2]`. */
  where: string;
}

export interface VmlinuxConfig {
  /** The folder that holds (or will hold) vmlinux.h; added to every program's include path. */
  dir: string;
  /** Write vmlinux.h from the kernel's BTF when it is missing. */
  generate: boolean;
  /** The BTF to generate it from (default: /sys/kernel/btf/vmlinux). */
  btf?: string;
}

export interface BuildConfig {
  /** The file the config was read from (tsbpf.config.json or package.json). */
  file: string;
  /** The folder relative paths were resolved against. */
  root: string;
  includeDirs: string[];
  vmlinux: VmlinuxConfig | undefined;
  programs: ProgramConfig[];
}

const cflag = string({ nonEmpty: true });
const targetName = string({
  pattern: /^[a-z0-9_]+$/,
  patternHint: 'targets are names like bpfel, bpfeb, amd64, arm64 (tsbpf build --help lists them)',
});
const identifier = string({
  pattern: /^[A-Za-z_][A-Za-z0-9_]*$/,
  patternHint: 'use letters, digits and underscores, starting with a letter (for example: probe, tcp_rtt)',
});
const typeName = string({
  pattern: /^((struct|union|enum)\s+)?[A-Za-z_][A-Za-z0-9_]*$/,
  patternHint: 'a C type name such as event, event_t or "struct event"',
});

const programSchema = object({
  ident: required(identifier),
  source: optional(string()),
  sources: optional(stringOrArray(string(), { nonEmpty: true })),
  outDir: optional(string()),
  types: optional(array(typeName)),
  events: optional(record(typeName, identifier)),
  fieldAs: optional(fieldAsSchema),
  cflags: optional(array(cflag)),
  targets: optional(array(targetName, { nonEmpty: true })),
  includeDirs: optional(array(string())),
  embed: optional(boolean()),
  strip: optional(boolean()),
});

const vmlinuxSchema: Checker<{ dir?: string; generate?: boolean; btf?: string }> = (value, at) =>
  typeof value === 'string'
    ? { dir: value }
    : object({ dir: optional(string()), generate: optional(boolean()), btf: optional(string()) })(value, at);

const configSchema = object({
  programs: required(array(programSchema, { nonEmpty: true })),
  includeDirs: optional(array(string())),
  cflags: optional(array(cflag)),
  targets: optional(array(targetName, { nonEmpty: true })),
  vmlinux: optional(vmlinuxSchema),
});

/** Validates parsed JSON as a config read from `file`, resolving paths against `root`. */
export function parseConfig(
  json: unknown,
  file: string,
  root = dirname(file),
  keyPrefix: string[] = [],
): BuildConfig {
  const at: SchemaPath = { file, keys: keyPrefix };
  const raw = configSchema(json, at);
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(root, p));

  const globalIncludes = (raw.includeDirs ?? []).map(abs);
  const globalCflags = raw.cflags ?? [];
  const globalTargets = raw.targets ?? [...defaultTargets];

  const checkTargets = (names: string[] | undefined, keys: Array<string | number>) => {
    if (names === undefined) return;
    try {
      resolveTargets(names);
    } catch (error) {
      throw schemaError(
        { file, keys: [...keyPrefix, ...keys] },
        (error as Error).message,
        (error as ConfigError).hint,
      );
    }
  };
  checkTargets(raw.targets, ['targets']);
  for (const [index, program] of raw.programs.entries())
    checkTargets(program.targets, ['programs', index, 'targets']);

  const seen = new Map<string, string>();
  const programs = raw.programs.map((program, index): ProgramConfig => {
    const here: SchemaPath = { file, keys: [...keyPrefix, 'programs', index] };
    const where = `programs[${index}]`;
    if (program.source !== undefined && program.sources !== undefined) {
      throw schemaError(here, 'has both "source" and "sources"', 'keep one: "sources" takes a list');
    }
    const sources = program.sources ?? (program.source === undefined ? undefined : [program.source]);
    if (sources === undefined) {
      throw schemaError(
        { file, keys: [...here.keys, 'sources'] },
        'is required',
        'the C files to compile, e.g. "sources": ["src/bpf/probe.c"]',
      );
    }
    const absSources = sources.map(abs);
    const outDir = program.outDir === undefined ? dirname(absSources[0] ?? root) : abs(program.outDir);
    const key = join(outDir, program.ident);
    const previous = seen.get(key);
    if (previous !== undefined) {
      throw schemaError(
        here,
        `writes the same files as ${previous} (${program.ident} in ${outDir})`,
        'give each program its own ident or outDir',
      );
    }
    seen.set(key, where);
    return {
      ident: checkIdent(program.ident, `${file}: ${where}.ident`),
      sources: absSources,
      outDir,
      types: program.types ?? [],
      events: program.events ?? {},
      fieldAs: program.fieldAs ?? {},
      cflags: [...globalCflags, ...(program.cflags ?? [])],
      targets: program.targets ?? [...globalTargets],
      includeDirs: [...globalIncludes, ...(program.includeDirs ?? []).map(abs)],
      embed: program.embed ?? false,
      strip: program.strip ?? true,
      where,
    };
  });

  let vmlinux: VmlinuxConfig | undefined;
  if (raw.vmlinux !== undefined) {
    vmlinux = {
      dir: abs(raw.vmlinux.dir ?? '.'),
      generate: raw.vmlinux.generate ?? true,
      ...(raw.vmlinux.btf === undefined ? {} : { btf: abs(raw.vmlinux.btf) }),
    };
  }
  return { file, root, includeDirs: globalIncludes, vmlinux, programs };
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    // A --config that is missing or a folder: the path and the cause in words, not Node's text.
    const known = userErrorOf(error, file);
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(`config ${known?.message ?? `${file}: ${(error as Error).message}`}`, {
      cause: error,
      hint:
        code === 'ENOENT' || code === 'EISDIR'
          ? 'name a config file: tsbpf build --config tsbpf.config.json (or package.json with a "tsbpf" key)'
          : known?.hint,
    });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${file}: not valid JSON: ${(error as Error).message}`, {
      cause: error,
      hint: 'check for trailing commas and unquoted keys (JSON allows neither)',
    });
  }
}

/** Reads a config from a given file: tsbpf.config.json, any JSON file, or a package.json's "tsbpf" key. */
export function readConfigFile(file: string): BuildConfig {
  const path = resolve(file);
  const json = readJson(path);
  if (basename(path) === 'package.json') {
    const tsbpf = (json as Record<string, unknown> | null)?.tsbpf;
    if (tsbpf === undefined) {
      throw new ConfigError(`${path} has no "tsbpf" key`, {
        hint: `add "tsbpf": { "programs": [...] } to it, or write a ${configFileName}`,
      });
    }
    return parseConfig(tsbpf, path, dirname(path), ['tsbpf']);
  }
  return parseConfig(json, path);
}

/**
 * Finds the config for a build started in `cwd`: the nearest tsbpf.config.json, or a package.json
 * with a "tsbpf" key, looking upwards and stopping at the project root (the first folder holding a
 * package.json or a .git). What it finds is checked by trustConfigFile before anything reads it.
 */
export function findConfigFile(cwd: string): string | undefined {
  let dir = resolve(cwd);
  for (;;) {
    const own = join(dir, configFileName);
    if (existsSync(own)) return own;
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      trustConfigFile(pkg);
      const json = readJson(pkg) as Record<string, unknown> | null;
      return json !== null && typeof json === 'object' && json.tsbpf !== undefined ? pkg : undefined;
    }
    if (existsSync(join(dir, '.git'))) return undefined;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Refuses a found config that someone else could have written: a build runs clang with the
 * config's flags (`-fplugin=` loads a shared object), so a config another user planted in a
 * shared parent such as /tmp would run their code as whoever builds (often root). A config owned
 * by root is trusted as well as the user's own (root can already run anything as anyone, as
 * OpenSSH's StrictModes reasons), so a project checked out by root builds as an ordinary user.
 * Like git's safe.directory, a config named on the command line (--config) is the user's own
 * choice and is not checked.
 */
export function trustConfigFile(file: string): void {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(file);
  } catch {
    return; // reading it reports the error
  }
  const uid = process.geteuid?.();
  if (uid === undefined) return;
  const why =
    st.uid !== uid && st.uid !== 0
      ? `is owned by ${describeUser(st.uid)}, not by you or root`
      : (st.mode & 0o002) !== 0
        ? 'is writable by every user'
        : undefined;
  if (why === undefined) return;
  throw new ConfigError(
    `${file} ${why}: not using it, since a build runs the compiler flags a config gives`,
    {
      hint: `if you trust it, name it: tsbpf build --config ${file}; otherwise remove it or build from your own copy`,
    },
  );
}

/** Loads the config named on the command line, or the one found from `cwd`. */
export function loadConfig(options: { cwd?: string; file?: string } = {}): BuildConfig {
  const cwd = options.cwd ?? process.cwd();
  if (options.file !== undefined) return readConfigFile(resolve(cwd, options.file));
  const found = findConfigFile(cwd);
  if (found === undefined) {
    throw new ConfigError(
      `no ${configFileName} (or "tsbpf" key in package.json) in ${resolve(cwd)} or its parents`,
      {
        hint: `create ${configFileName} with { "programs": [{ "ident": "probe", "sources": ["probe.c"] }] }, or pass --config FILE`,
      },
    );
  }
  trustConfigFile(found);
  return readConfigFile(found);
}
