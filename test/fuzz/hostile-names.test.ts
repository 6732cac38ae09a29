// Names from an object are the object author's to choose: section, symbol and BTF names may hold
// `*/`, quotes, backslashes, line breaks, `${`, ESC sequences and U+2028. A loader generated from
// such an object must still be only what the generator writes (the same syntax tree, comments and
// JSDoc tags as for plain names), type-check, keep the exact names in its string literals, hold no
// raw control characters, and `tsbpf gen` must print none. Through the real CLI for one hostile
// object and a C source, then a fast-check property over codegen with arbitrary names.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { readObject } from '../../src/btf/object.js';
import { prepare } from '../../src/build/generate.js';
import { generateLoader } from '../../src/codegen/loader.js';
import { TsbpfError } from '../../src/errors.js';
import { type CliResult, importLoader, tempProject, tsbpf } from '../fixtures/gen/helpers.js';
import {
  callArguments,
  codeShape,
  HOSTILE,
  hostileObject,
  mapViewNames,
  PLACEHOLDER_BYTES,
  patchNames,
  RAW_CONTROL,
  ROLES,
  type Role,
  typeErrors,
} from '../fixtures/hostile/helpers.js';
import { vmlinuxDir } from '../helpers/bpf.js';
import { fuzzRuns } from '../helpers/fuzz.js';

const both = [
  { file: 'hostile_bpfel.o', endian: 'little' as const },
  { file: 'hostile_bpfeb.o', endian: 'big' as const },
];

/** stdout and stderr of a run, for "printed no control characters". */
const printed = (r: CliResult) => `${r.stdout}${r.stderr}`;

describe('tsbpf gen --objfile with hostile names', () => {
  const benign = hostileObject();
  const hostile = patchNames(benign, HOSTILE);
  let dir: string;
  let benignDir: string;
  let result: CliResult;
  let loader: string;
  let plain: string;

  beforeAll(async () => {
    dir = tempProject('tsbpf-hostile-');
    writeFileSync(join(dir, 'hostile.o'), hostile);
    result = await tsbpf(['gen', 'hostile', '--objfile', 'hostile.o'], dir);
    loader = readFileSync(join(dir, 'hostile.ts'), 'utf8');
    benignDir = tempProject('tsbpf-benign-');
    writeFileSync(join(benignDir, 'benign.o'), benign);
    expect((await tsbpf(['gen', 'hostile', '--objfile', 'benign.o'], benignDir)).code).toBe(0);
    plain = readFileSync(join(benignDir, 'hostile.ts'), 'utf8');
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('reads the names back as patched', () => {
    const info = readObject(hostile, 'hostile.o');
    expect(info.programs.map((p) => [p.name, p.section])).toEqual([
      [HOSTILE.PROG, `tracepoint/${HOSTILE.SEC}`],
    ]);
    expect(info.maps.map((m) => m.name)).toEqual([HOSTILE.MAP, HOSTILE.RING, HOSTILE.PERF]);
    expect(info.dataSections.map((s) => s.name)).toContain(`.data.${HOSTILE.DSEC}`);
  });

  it('writes the loader and prints no control character', () => {
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    // The note about the perf array names it, escaped.
    expect(result.stdout).toContain('perf\\x1b[31mRED\\x1b[0m */ \\u202e has no event type');
    expect(printed(result)).not.toMatch(RAW_CONTROL);
  });

  it('has the statements, comments and JSDoc tags of the loader for plain names, and no others', () => {
    const shape = codeShape(loader);
    expect(shape.diagnostics).toEqual([]);
    const expected = codeShape(plain);
    expect(shape.nodes).toEqual(expected.nodes);
    expect(shape.comments).toEqual(expected.comments);
    expect(shape.jsdoc).toEqual(expected.jsdoc);
    expect(loader).not.toMatch(RAW_CONTROL);
  });

  it('looks programs, maps and sections up by their exact names', () => {
    expect(callArguments(loader, 'collection.program')).toEqual([HOSTILE.PROG]);
    expect(mapViewNames(loader)).toEqual([HOSTILE.MAP, HOSTILE.RING, HOSTILE.PERF]);
    expect(callArguments(loader, 'specEntry')).toEqual([
      HOSTILE.PROG,
      HOSTILE.MAP,
      HOSTILE.RING,
      HOSTILE.PERF,
    ]);
    expect(callArguments(loader, 'section')).toContain(`.data.${HOSTILE.DSEC}`);
  });

  it('type-checks under tsc --strict', () => {
    expect(typeErrors(dir, ['hostile.ts'])).toEqual([]);
  });

  it('runs nothing on import', async () => {
    const log = vi.spyOn(console, 'log');
    const globals = globalThis as { pwned?: unknown };
    const module = await importLoader<Record<string, unknown>>(join(dir, 'hostile.ts'));
    const plainModule = await importLoader<Record<string, unknown>>(join(benignDir, 'hostile.ts'));
    // The same exports but for the type names made from the hostile ones.
    expect(Object.keys(module)).toHaveLength(Object.keys(plainModule).length);
    expect(typeof module.loadHostileSpec).toBe('function');
    expect(globals.pwned).toBeUndefined();
    expect(log).not.toHaveBeenCalled();
  });

  it('finds every program, map and section in the object libbpf opens, by the names it quotes', async () => {
    const module = await importLoader<{ loadHostileSpec(): Promise<{ close(): void; variables: object }> }>(
      join(dir, 'hostile.ts'),
    );
    // specEntry() throws for a name libbpf does not know: the literals are the exact names.
    const spec = await module.loadHostileSpec();
    try {
      for (const variable of Object.values(spec.variables) as Array<{ get(): unknown }>) variable.get();
    } finally {
      spec.close();
    }
  });

  it('escapes the names in errors: similar type names and the list of maps', async () => {
    // `pwned` is in the hostile struct's name, so it is listed as a similar name.
    const type = await tsbpf(['gen', 'hostile', '--objfile', 'hostile.o', '--type', 'pwned'], dir);
    expect(type.code).toBe(1);
    expect(type.stderr).toContain('similar names:');
    expect(type.stderr).toContain("ev */ globalThis.pwned = 'struct';");
    expect(printed(type)).not.toMatch(RAW_CONTROL);
    const event = await tsbpf(['gen', 'hostile', '--objfile', 'hostile.o', '--event', 'nosuch=__u32'], dir);
    expect(event.code).toBe(1);
    expect(event.stderr).toContain("its maps: m'); globalThis.pwned = 'map'; ('\\x1b[2J");
    expect(printed(event)).not.toMatch(RAW_CONTROL);
  });

  it('escapes the names in what prepare() reports, which `tsbpf build` prints as it is', async () => {
    const options = { ident: 'hostile', objfiles: ['hostile.o'], cwd: dir };
    const { notes } = await prepare(options);
    expect(notes.join('\n')).toContain('perf\\x1b[31mRED');
    expect(notes.join('\n')).not.toMatch(RAW_CONTROL);
    for (const bad of [{ types: ['pwned'] }, { events: { nosuch: '__u32' } }]) {
      const error = await prepare({ ...options, ...bad }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TsbpfError);
      const { message, hint } = error as TsbpfError;
      expect(message).toMatch(/similar names|no map nosuch/);
      expect(`${message}${hint}`.split('\n').join('')).not.toMatch(RAW_CONTROL);
    }
  });
});

describe('tsbpf gen from C with a hostile SEC()', () => {
  it('keeps the section name inside its comment', async () => {
    const dir = tempProject('tsbpf-hostile-c-');
    writeFileSync(
      join(dir, 'p.c'),
      [
        '#include "vmlinux.h"',
        '#include <bpf/bpf_helpers.h>',
        'SEC("tracepoint/x */ console.log(\'pwned\'); /*\\x1b]0;title\\x07")',
        'int handle(void *ctx) { return 0; }',
        'char LICENSE[] SEC("license") = "GPL";',
        '',
      ].join('\n'),
    );
    const result = await tsbpf(['gen', 'probe', 'p.c', '-I', vmlinuxDir()], dir);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const code = readFileSync(join(dir, 'probe.ts'), 'utf8');
    expect(code).toContain(
      '/** `SEC("tracepoint/x *\\/ console.log(\'pwned\'); /*\\x1b]0;title\\x07") int handle(void *ctx)` */',
    );
    expect(code).not.toMatch(RAW_CONTROL);
    expect(codeShape(code).diagnostics).toEqual([]);
    expect(callArguments(code, 'collection.program')).toEqual(['handle']);
    expect(typeErrors(dir, ['probe.ts'])).toEqual([]);
  });
});

// ---- property: arbitrary names in every role ----

/** Characters and runs that end comments, strings, templates, code spans or lines, or drive a terminal. */
const nasty = fc.constantFrom(
  '*/',
  '/*',
  '//',
  '`',
  '${',
  '}',
  '\\',
  "'",
  '"',
  '\n',
  '\r',
  '\u2028',
  '\u2029',
  '\u001b',
  '\u001b[2J',
  '\u0007',
  '\u007f',
  '\u009b',
  '\u202e',
  '\u200b',
  '\ufeff',
  '@',
  '{@link x}',
  '<',
  '>',
  '&',
  '](',
  '[',
  '#',
  ' ',
  '\t',
);
const nameChar = fc.oneof(nasty, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }));
const name = fc.string({ unit: nameChar, minLength: 1, maxLength: 24 }).filter((s) => {
  const bytes = Buffer.byteLength(s, 'utf8');
  // A leading U+FEFF is dropped by the object reader (its TextDecoder takes it for a BOM), so
  // such a name reads back as another one, or as none.
  return bytes > 0 && bytes <= PLACEHOLDER_BYTES && !s.includes('\0') && !s.startsWith('\ufeff');
});

/** What a name reads back as from the object (UTF-8 round trip). */
const readBack = (s: string) => Buffer.from(s, 'utf8').toString('utf8');

/** Members of one struct (or union) must differ, as C requires; so must the maps' names. */
function wellFormed(names: Record<Role, string>): boolean {
  const n = Object.fromEntries(Object.entries(names).map(([k, v]) => [k, readBack(v)])) as Record<
    Role,
    string
  >;
  const distinct = (...xs: string[]) => new Set(xs).size === xs.length;
  // RecordView's own members cannot be a view's getters (a limit of views, not of escaping).
  const viewMember = (s: string) => /^\$(?:bytes|view|offset|length|at|clear|decode)$/.test(s);
  return (
    distinct(n.MEMBER, n.BITS, 'rest', 'kind', 'u', 'comm') &&
    distinct(n.UMEMBER, 'half') &&
    distinct(n.ENUMERATOR, 'plain') &&
    distinct(n.MAP, n.RING, n.PERF) &&
    ![n.MEMBER, n.BITS, n.UMEMBER].some(viewMember) &&
    // A data section's name is one line (`.data.<name>`), or it is no data section.
    !/[\n\r\u2028\u2029]/.test(n.DSEC)
  );
}

const names = fc
  .record(Object.fromEntries(ROLES.map((role) => [role, name])) as Record<Role, fc.Arbitrary<string>>)
  .filter(wellFormed);

describe('codegen with arbitrary names', () => {
  const benign = hostileObject();
  const expected = codeShape(generateLoader(readObject(benign), { ident: 'hostile', objects: both }));

  it('gives a loader of the same shape, with the exact names in its strings and no raw controls', () => {
    fc.assert(
      fc.property(names, (given) => {
        const info = readObject(patchNames(benign, given), 'fuzz.o');
        const code = generateLoader(info, { ident: 'hostile', objects: both });
        const shape = codeShape(code);
        expect(shape.diagnostics).toEqual([]);
        expect(shape.nodes).toEqual(expected.nodes);
        expect(shape.comments).toEqual(expected.comments);
        expect(shape.jsdoc).toEqual(expected.jsdoc);
        expect(code).not.toMatch(RAW_CONTROL);
        expect(callArguments(code, 'collection.program')).toEqual(info.programs.map((p) => p.name));
        expect(mapViewNames(code)).toEqual(info.maps.map((m) => m.name));
      }),
      { numRuns: fuzzRuns(150) },
    );
  });

  it('gives loaders that type-check under tsc --strict', () => {
    const dir = tempProject('tsbpf-hostile-tsc-');
    // Keys JavaScript treats specially, with the random ones.
    const special = { ...HOSTILE, MEMBER: 'constructor', BITS: '__proto__', ENUMERATOR: '__proto__' };
    const folded = {
      ...HOSTILE,
      UMEMBER: 'toString',
      RODATA: '__proto__',
      DATA: 'proto',
      PROG: 'hasOwnProperty',
    };
    const samples = [special, folded, ...fc.sample(names, { numRuns: fuzzRuns(6), seed: 42 })];
    const files = samples.map((given, i) => {
      const file = `loader${i}.ts`;
      writeFileSync(
        join(dir, file),
        generateLoader(readObject(patchNames(benign, given)), { ident: 'hostile', objects: both }),
      );
      return file;
    });
    expect(typeErrors(dir, files)).toEqual([]);
  });
});
