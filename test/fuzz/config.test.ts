// Fuzzes the config loader: random JSON values, config-shaped objects with random leaves, and
// random bytes as a tsbpf.config.json or package.json. Every input ends in a BuildConfig or a
// ConfigError (with the file in its message), never another exception.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig, readConfigFile } from '../../src/build/config.js';
import { ConfigError } from '../../src/errors.js';
import { fuzzRuns } from '../helpers/fuzz.js';
import { tempDir } from '../helpers/paths.js';

const FILE = '/project/tsbpf.config.json';

function settle(run: () => unknown): 'ok' | 'error' {
  try {
    run();
    return 'ok';
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    expect(error.message.length).toBeGreaterThan(0);
    return 'error';
  }
}

// Leaves that are sometimes right, sometimes wrong in type or value.
const leaf = fc.oneof(
  fc.string(),
  fc.constantFrom('probe', 'probe.c', 'bpfel', 'bpfeb', 'amd64', 'x', '', '../out', '-O2', '__proto__'),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(fc.string(), fc.constantFrom('bpfel', 'arm64', 'probe.c'), fc.integer()), {
    maxLength: 4,
  }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
);
const keys = fc.constantFrom(
  'ident',
  'source',
  'sources',
  'outDir',
  'types',
  'events',
  'cflags',
  'targets',
  'includeDirs',
  'embed',
  'strip',
  'vmlinux',
  'dir',
  'generate',
  'btf',
  'constructor',
  '__proto__',
  'unknown',
);
const program = fc.dictionary(keys, leaf, { maxKeys: 6 });
const validProgram = fc.record(
  {
    ident: fc.constantFrom('probe', 'my_probe', 'x1'),
    sources: fc.array(fc.constantFrom('a.c', 'src/b.c', '/abs/c.c'), { minLength: 1, maxLength: 2 }),
    targets: fc.array(fc.constantFrom('bpfel', 'bpfeb', 'amd64', 'arm64'), { minLength: 1, maxLength: 3 }),
    cflags: fc.array(fc.constantFrom('-O2', '-DX=1', '-Wall'), { maxLength: 2 }),
    embed: fc.boolean(),
  },
  { requiredKeys: ['ident', 'sources'] },
);
const configShaped = fc.record(
  {
    programs: fc.oneof(
      fc.array(program, { maxLength: 3 }),
      fc.array(validProgram, { minLength: 1, maxLength: 1 }),
      leaf,
    ),
    includeDirs: fc.oneof(leaf, fc.constant(['inc'])),
    cflags: fc.oneof(leaf, fc.constant(['-O2'])),
    targets: fc.oneof(leaf, fc.constant(['bpfel'])),
    vmlinux: fc.oneof(leaf, fc.dictionary(keys, leaf, { maxKeys: 3 })),
  },
  { requiredKeys: [] },
);

describe('config loader fuzz', () => {
  it('random JSON values: a config or a ConfigError', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (json) => {
        settle(() => parseConfig(json, FILE));
      }),
      { numRuns: fuzzRuns(2000) },
    );
  });

  it('config-shaped objects with random leaves: a config or a ConfigError', () => {
    let ok = 0;
    fc.assert(
      fc.property(configShaped, (json) => {
        if (settle(() => parseConfig(json, FILE)) === 'ok') ok++;
      }),
      { numRuns: fuzzRuns(3000) },
    );
    // The generator reaches valid configs too, so both outcomes are exercised.
    expect(ok).toBeGreaterThan(0);
  });

  it('a valid config with one field replaced: a config or a ConfigError naming the place', () => {
    const valid = {
      programs: [{ ident: 'probe', sources: ['probe.c'], targets: ['bpfel'] }],
      cflags: ['-O2'],
    };
    fc.assert(
      fc.property(
        fc.constantFrom('programs', 'cflags', 'ident', 'sources', 'targets'),
        leaf,
        (field, value) => {
          const json = structuredClone(valid) as Record<string, unknown>;
          const program = (json.programs as Record<string, unknown>[])[0] as Record<string, unknown>;
          if (field === 'programs' || field === 'cflags') json[field] = value;
          else program[field] = value;
          try {
            parseConfig(json, FILE);
          } catch (error) {
            if (!(error instanceof ConfigError)) throw error;
            expect(error.message).toContain(FILE);
          }
        },
      ),
      { numRuns: fuzzRuns(1500) },
    );
  });

  it('random bytes as tsbpf.config.json or package.json: a config or a ConfigError', () => {
    const dir = tempDir();
    let n = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 256 }),
          fc.string({ unit: 'binary', maxLength: 128 }).map((s) => new TextEncoder().encode(s)),
          fc.jsonValue({ maxDepth: 3 }).map((v) => new TextEncoder().encode(JSON.stringify({ tsbpf: v }))),
        ),
        fc.constantFrom('tsbpf.config.json', 'package.json'),
        (bytes, name) => {
          const here = join(dir, String(n++));
          mkdirSync(here);
          writeFileSync(join(here, name), bytes);
          settle(() => readConfigFile(join(here, name)));
          settle(() => loadConfig({ cwd: here }));
        },
      ),
      { numRuns: fuzzRuns(600) },
    );
  });
});
