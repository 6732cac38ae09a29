// Fuzzes the ELF reader with corrupted and truncated real objects: every outcome must be a result
// or a FormatError, never another exception, an out-of-bounds read or a hang.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseElf } from '../../src/elf/index.js';
import { FormatError } from '../../src/errors.js';
import { corrupt, corruption } from '../fixtures/btf/corrupt.js';
import { layoutsObject } from '../fixtures/btf/helpers.js';
import { fuzzRuns } from '../helpers/fuzz.js';

function exercise(bytes: Uint8Array): void {
  try {
    const elf = parseElf(bytes, 'fuzz.o');
    for (const s of elf.sections) {
      elf.data(s);
      elf.relocations(s);
    }
    elf.symbols();
  } catch (error) {
    if (!(error instanceof FormatError)) throw error;
  }
}

describe('parseElf fuzz', () => {
  for (const target of ['bpfel', 'bpfeb'] as const) {
    it(`survives corrupted ${target} objects`, () => {
      const good = layoutsObject(target);
      fc.assert(
        fc.property(corruption(good.length), (c) => {
          exercise(corrupt(good, c));
        }),
        { numRuns: fuzzRuns(3000) },
      );
    });

    it(`survives corrupted ${target} headers and section tables`, () => {
      const good = layoutsObject(target);
      const shoff = Number(new DataView(good.buffer, good.byteOffset).getBigUint64(40, target === 'bpfel'));
      // Concentrate edits where the structure lives: the ELF header and the section headers.
      const hot = fc.oneof(fc.nat({ max: 63 }), fc.integer({ min: shoff, max: good.length - 1 }));
      fc.assert(
        fc.property(
          fc.array(fc.tuple(hot, fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
          (edits) => {
            const copy = good.slice();
            for (const [at, value] of edits) copy[at] = value;
            exercise(copy);
          },
        ),
        { numRuns: fuzzRuns(3000) },
      );
    });
  }

  it('survives random bytes behind a valid ELF magic', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 512 }), (tail) => {
        const bytes = new Uint8Array(tail.length + 6);
        bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1]);
        bytes.set(tail, 6);
        exercise(bytes);
      }),
      { numRuns: fuzzRuns(2000) },
    );
    expect(true).toBe(true);
  });
});
