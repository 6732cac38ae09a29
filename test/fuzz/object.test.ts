// Fuzzes CollectionSpec.fromBytes (our ELF check, then libbpf's bpf_object__open_mem) and load with
// corrupted real objects. Every case must end in a spec (then load it, or fail with a TsbpfError)
// or a TsbpfError. libbpf is C: a crash would take the process down, so the cases run in a child
// process that reports each outcome, and a crash names the case that caused it.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseElf } from '../../src/elf/index.js';
import { corrupt, corruption } from '../fixtures/btf/corrupt.js';
import { fuzzRuns } from '../helpers/fuzz.js';
import { tempDir } from '../helpers/paths.js';
import { reliabilityFixture, runtimeFixture, runtimePath } from '../reliability/helpers.js';

const child = `
import { readFileSync } from 'node:fs';
import { CollectionSpec, TsbpfError } from ${JSON.stringify(runtimePath)};
const cases = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const load = process.argv[3] === 'load';
const counts = { opened: 0, loaded: 0, typed: 0 };
for (const [i, b64] of cases.entries()) {
  process.stderr.write('case ' + i + '\\n');
  const bytes = new Uint8Array(Buffer.from(b64, 'base64'));
  try {
    const spec = CollectionSpec.fromBytes(bytes);
    counts.opened++;
    if (load) {
      const coll = await spec.load();
      counts.loaded++;
      coll.close();
    } else spec.close();
  } catch (error) {
    if (!(error instanceof TsbpfError)) {
      console.log(JSON.stringify({ untyped: i, error: String(error && error.stack || error) }));
      process.exit(2);
    }
    counts.typed++;
  }
}
console.log(JSON.stringify(counts));
`;

/** Edits anywhere, or concentrated on the sections libbpf parses (.BTF, .BTF.ext, .maps, relocations, symbols). */
function casesFor(good: Uint8Array, runs: number, seed: number): string[] {
  const elf = parseElf(good, 'fixture.o');
  const hot = elf.sections
    .filter((s) => /^\.BTF|^\.maps$|^\.rel|^\.symtab$|^\.strtab$/.test(s.name) && s.size > 0)
    .map((s) => ({ start: Number(s.offset), end: Number(s.offset) + Number(s.size) - 1 }));
  const hotEdit = fc.constantFrom(...hot).chain((r) =>
    fc.record({
      at: fc.integer({ min: r.start, max: r.end }),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }),
    }),
  );
  const focused = fc.record({
    edits: fc.array(hotEdit, { minLength: 1, maxLength: 4 }),
    truncate: fc.constant(null),
  });
  const arb = fc.oneof(corruption(good.length), focused, focused);
  return fc.sample(arb, { numRuns: runs, seed }).map((c) => Buffer.from(corrupt(good, c)).toString('base64'));
}

function runCases(cases: string[], load: boolean, seed: number) {
  const dir = tempDir();
  writeFileSync(join(dir, 'cases.json'), JSON.stringify(cases));
  writeFileSync(join(dir, 'child.mjs'), child);
  const result = spawnSync(
    process.execPath,
    [join(dir, 'child.mjs'), join(dir, 'cases.json'), load ? 'load' : ''],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    },
  );
  const lastCase = /case (\d+)\n$/.exec(result.stderr)?.[1];
  if ((result.signal || result.status !== 0) && lastCase !== undefined && process.env.TSBPF_FUZZ_SAVE) {
    writeFileSync(process.env.TSBPF_FUZZ_SAVE, Buffer.from(cases[Number(lastCase)] as string, 'base64'));
  }
  if (result.signal || result.status !== 0) {
    throw new Error(
      `child ended by ${result.signal ?? `exit ${result.status}`} at case ${lastCase}: ${result.stdout.trim()} (seed ${seed})`,
    );
  }
  const counts = JSON.parse(result.stdout.trim().split('\n').at(-1) as string) as {
    opened: number;
    loaded: number;
    typed: number;
  };
  // The figures docs/reliability.md quotes (visible with --reporter=verbose).
  console.log(
    `object fuzz: ${cases.length} cases (${load ? 'open+load' : 'open'}): ${JSON.stringify(counts)}`,
  );
  return counts;
}

describe('CollectionSpec.fromBytes fuzz (child process)', () => {
  it('corrupted tracepoint/uprobe/XDP/tc object: a spec or a TsbpfError, open and load', () => {
    const seed = Date.now() | 0;
    const cases = casesFor(reliabilityFixture('kinds'), fuzzRuns(400), seed);
    const counts = runCases(cases, true, seed);
    expect(counts.opened + counts.typed - counts.loaded).toBeLessThanOrEqual(cases.length);
    expect(counts.typed).toBeGreaterThan(0); // the corruptions do reach the error paths
    expect(counts.opened).toBeGreaterThan(0); // ... and some still open
  });

  it('corrupted ring buffer object with data sections: a spec or a TsbpfError on open', () => {
    const seed = (Date.now() | 0) ^ 0x5a5a;
    const cases = casesFor(runtimeFixture('events'), fuzzRuns(800), seed);
    const counts = runCases(cases, false, seed);
    expect(counts.opened + counts.typed).toBe(cases.length);
  });
});
