// Fuzzes the BTF and .BTF.ext parsers, readObject and type generation with corrupted real
// objects and blobs: every outcome must be a result or a TsbpfError (FormatError for malformed
// input), never another exception or a hang.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { type Btf, parseBtf, parseBtfExt, readObject } from '../../src/btf/index.js';
import { emitTypes } from '../../src/codegen/types.js';
import { parseElf } from '../../src/elf/index.js';
import { TsbpfError } from '../../src/errors.js';
import { corrupt, corruption } from '../fixtures/btf/corrupt.js';
import { layoutsObject } from '../fixtures/btf/helpers.js';
import { fuzzRuns } from '../helpers/fuzz.js';

function tolerate(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof TsbpfError)) throw error;
  }
}

/** Touches everything a caller might: every type, layout queries, spelling, codegen. */
function exerciseBtf(btf: Btf): void {
  const roots: number[] = [];
  for (let id = 1; id < btf.count; id++) {
    tolerate(() => {
      const t = btf.type(id);
      if (t.kind === 'struct' || t.kind === 'union') roots.push(id);
    });
    tolerate(() => btf.sizeof(id));
    tolerate(() => btf.alignof(id));
    tolerate(() => btf.describe(id));
    tolerate(() => btf.resolve(id));
    tolerate(() => btf.member(id, 'pid'));
  }
  tolerate(() => btf.find('tricky', 'struct'));
  tolerate(() => {
    const emitted = emitTypes(btf, roots.slice(0, 8));
    for (const id of roots.slice(0, 8)) emitted.codecOf(id);
  });
}

function sections(target: 'bpfel' | 'bpfeb') {
  const elf = parseElf(layoutsObject(target));
  return {
    btf: elf.data(elf.section('.BTF')!),
    ext: elf.data(elf.section('.BTF.ext')!),
    le: elf.littleEndian,
  };
}

describe('BTF fuzz', () => {
  for (const target of ['bpfel', 'bpfeb'] as const) {
    it(`survives corrupted ${target} .BTF blobs`, () => {
      const { btf } = sections(target);
      fc.assert(
        fc.property(corruption(btf.length), (c) => {
          tolerate(() => exerciseBtf(parseBtf(corrupt(btf, c), { file: 'fuzz.btf' })));
        }),
        { numRuns: fuzzRuns(1500) },
      );
    });

    it(`survives corrupted ${target} .BTF.ext blobs`, () => {
      const { btf, ext, le } = sections(target);
      const parsed = parseBtf(btf, { littleEndian: le });
      fc.assert(
        fc.property(corruption(ext.length), (c) => {
          tolerate(() => {
            const table = parseBtfExt(corrupt(ext, c), parsed, 'fuzz.btf.ext');
            for (const s of table.sections) {
              table.lines(s);
              table.funcs(s);
              table.lookup(s, 3);
            }
          });
        }),
        { numRuns: fuzzRuns(2000) },
      );
    });

    it(`survives corrupted ${target} objects through readObject`, () => {
      const good = layoutsObject(target);
      fc.assert(
        fc.property(corruption(good.length), (c) => {
          tolerate(() => {
            const obj = readObject(corrupt(good, c), 'fuzz.o');
            exerciseBtf(obj.btf);
          });
        }),
        { numRuns: fuzzRuns(1500) },
      );
    });
  }

  it('survives corrupted type records (edits inside the type section)', () => {
    const { btf } = sections('bpfel');
    const typeLen = new DataView(btf.buffer, btf.byteOffset).getUint32(12, true);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 24, max: 24 + typeLen - 1 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        (edits) => {
          const copy = btf.slice();
          for (const [at, value] of edits) copy[at] = value;
          tolerate(() => exerciseBtf(parseBtf(copy)));
        },
      ),
      { numRuns: fuzzRuns(2000) },
    );
  });
});
