// Fuzzes the symbolizer's inputs: corrupted executables and libraries (in memory and read from
// disk the sparse way), and corrupted /proc/kallsyms, /proc/PID/maps and perf map text. ELF input
// may end in a FormatError and nothing else; text parsers never throw; lookups on whatever they
// built never throw; nothing hangs.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormatError } from '../../src/errors.js';
import {
  type ElfSymbolFile,
  elfSymbolsFromBytes,
  fileOffsetToAddress,
  findMapping,
  KernelSymbols,
  parsePerfMap,
  parseProcMaps,
  readElfSymbols,
} from '../../src/symbolize/index.js';
import { corrupt, corruption } from '../fixtures/btf/corrupt.js';
import { buildFixtures, type SymbolizeFixtures } from '../fixtures/symbolize/build.js';
import { fuzzRuns } from '../helpers/fuzz.js';
import { tempDir } from '../helpers/paths.js';

let fx: SymbolizeFixtures;
let executable: Uint8Array;
let library: Uint8Array;
beforeAll(() => {
  fx = buildFixtures(tempDir('tsbpf-symbolize-fuzz-'));
  executable = new Uint8Array(readFileSync(fx.pie));
  library = new Uint8Array(readFileSync(fx.library));
});
afterAll(() => rmSync(fx.dir, { recursive: true, force: true }));

function use(file: ElfSymbolFile): void {
  for (const address of [0, 0x1000, 0x1139, 0x401000, 2 ** 40]) {
    file.symbols.lookup(address);
    fileOffsetToAddress(file, address);
  }
}

/** Runs `read`; a FormatError is an answer, anything else thrown fails the property. */
function formatErrorOrResult(read: () => ElfSymbolFile): boolean {
  try {
    use(read());
    return true;
  } catch (error) {
    if (error instanceof FormatError) return false;
    throw error;
  }
}

describe('ELF symbols fuzz', () => {
  for (const which of ['executable', 'library'] as const) {
    it(`survives corrupted ${which} bytes`, () => {
      const good = which === 'executable' ? executable : library;
      let refused = 0;
      fc.assert(
        fc.property(corruption(good.length), (c) => {
          if (!formatErrorOrResult(() => elfSymbolsFromBytes(corrupt(good, c), 'fuzz'))) refused++;
        }),
        { numRuns: fuzzRuns(1500) },
      );
      // Sanity: the corruptions do reach the checks (some inputs are refused).
      expect(refused).toBeGreaterThan(0);
    });
  }

  it('survives corrupted headers read from disk the sparse way', () => {
    const path = join(fx.dir, 'corrupt.elf');
    // Where the structure lives: the ELF header and the program header table right after it.
    const hot = fc.nat({ max: 63 + 13 * 56 });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(hot, fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.option(fc.nat({ max: executable.length }), { freq: 4 }),
        (edits, truncate) => {
          const copy = executable.slice();
          for (const [at, value] of edits) copy[at] = value;
          writeFileSync(path, truncate === null ? copy : copy.subarray(0, truncate));
          formatErrorOrResult(() => readElfSymbols(path));
        },
      ),
      { numRuns: fuzzRuns(400) },
    );
  });
});

/** Lines of a real-looking text with random edits: characters replaced, lines cut, junk inserted. */
const mangled = (lines: string[]) =>
  fc
    .array(
      fc.record({
        line: fc.nat({ max: lines.length - 1 }),
        at: fc.nat({ max: 80 }),
        text: fc.string({ maxLength: 12, unit: 'binary' }),
        cut: fc.boolean(),
      }),
      { maxLength: 8 },
    )
    .map((edits) => {
      const copy = [...lines];
      for (const e of edits) {
        const line = copy[e.line]!;
        const at = Math.min(e.at, line.length);
        copy[e.line] = e.cut ? line.slice(0, at) + e.text : line.slice(0, at) + e.text + line.slice(at + 1);
      }
      return copy.join('\n');
    });

describe('text parsers fuzz', () => {
  it('kallsyms: corrupt lines are skipped, never thrown', () => {
    const real = readFileSync('/proc/kallsyms', 'latin1').split('\n').slice(0, 400);
    real.push('ffffffffc0a01000 t ext4_first\t[ext4]', 'ffffffffc0100000 t bpf_prog_x_y\t[bpf]');
    const intact = new KernelSymbols(real.join('\n')).size;
    fc.assert(
      fc.property(mangled(real), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (text, address) => {
        const symbols = new KernelSymbols(text);
        // At most 8 lines were edited: the others still count.
        expect(symbols.size).toBeGreaterThanOrEqual(intact - 8);
        symbols.lookup(address);
        symbols.lookup(0xffffffff81000010n);
      }),
      { numRuns: fuzzRuns(500) },
    );
  });

  it('maps: corrupt lines are skipped, never thrown', () => {
    const real = readFileSync('/proc/self/maps', 'latin1').split('\n');
    const intact = parseProcMaps(real.join('\n')).length;
    fc.assert(
      fc.property(mangled(real), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (text, address) => {
        const mappings = parseProcMaps(text);
        expect(mappings.length).toBeGreaterThanOrEqual(intact - 8);
        findMapping(mappings, address);
      }),
      { numRuns: fuzzRuns(1000) },
    );
  });

  it('perf maps and random text: never thrown', () => {
    const lines = ['7f1000001000 40 LazyCompile:~main /app/x.js:1', '0x7f1000002000 0x20 Builtin:X', 'junk'];
    fc.assert(
      fc.property(mangled(lines), fc.string({ maxLength: 300, unit: 'binary' }), (text, noise) => {
        parsePerfMap(text).lookup(0x7f1000001010);
        parsePerfMap(noise).lookup(0);
        new KernelSymbols(noise).lookup(1n);
        parseProcMaps(noise);
      }),
      { numRuns: fuzzRuns(1000) },
    );
  });
});
