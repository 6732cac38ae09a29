// printable(): what tsbpf shows of untrusted text (an object's names, an event's comm) holds no
// character that drives a terminal or reorders what is read; everything else passes unchanged.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPrintable, printable, printableLines } from '../../src/printable.js';
import { fuzzRuns } from '../helpers/fuzz.js';

/** Every character printable() must escape, by range. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/u;

describe('printable', () => {
  it('leaves ordinary text alone, non-ASCII included', () => {
    for (const text of [
      '',
      'bash',
      'struct event_t',
      'tracepoint/syscalls/sys_enter_openat',
      'é😀日本',
      '\\x1b',
    ]) {
      expect(printable(text)).toBe(text);
      expect(isPrintable(text)).toBe(true);
    }
  });

  it('writes C0, DEL and C1 controls as \\xNN', () => {
    expect(printable('\u001b[31mred\u001b[0m')).toBe('\\x1b[31mred\\x1b[0m');
    expect(printable('\u001b]0;title\u0007')).toBe('\\x1b]0;title\\x07');
    expect(printable('a\nb\rc\td\u0000')).toBe('a\\x0ab\\x0dc\\x09d\\x00');
    expect(printable('\u007f\u0080\u009b\u009f')).toBe('\\x7f\\x80\\x9b\\x9f');
  });

  it('writes line separators, bidi controls, zero-width marks and BOM as \\uNNNN', () => {
    expect(printable('a\u2028b\u2029c')).toBe('a\\u2028b\\u2029c');
    expect(printable('\u202eevil\u202c')).toBe('\\u202eevil\\u202c');
    expect(printable('\u2066\u2067\u2068\u2069')).toBe('\\u2066\\u2067\\u2068\\u2069');
    expect(printable('\u200b\u200c\u200d\u200e\u200f\u061c\ufeff')).toBe(
      '\\u200b\\u200c\\u200d\\u200e\\u200f\\u061c\\ufeff',
    );
    // Neighbours of the ranges pass.
    expect(printable('\u00a0\u2027\u202f\u2065\u206a')).toBe('\u00a0\u2027\u202f\u2065\u206a');
  });

  it('answers isPrintable the same on every call (its regex is global)', () => {
    for (let i = 0; i < 3; i++) {
      expect(isPrintable('x\u001by')).toBe(false);
      expect(isPrintable('plain')).toBe(true);
      expect(printable('x\u001by')).toBe('x\\x1by');
    }
  });

  it('keeps line breaks and tabs in printableLines(), and escapes the rest', () => {
    expect(printableLines('no type x\n  x: similar names: a\u001b[2J\tb\r\u2028')).toBe(
      'no type x\n  x: similar names: a\\x1b[2J\tb\\x0d\\u2028',
    );
    expect(printableLines('plain\n\tlines')).toBe('plain\n\tlines');
  });

  it('gives printable text for any input, and changes only what it must', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (text) => {
        const shown = printable(text);
        expect(shown).not.toMatch(UNSAFE);
        expect(isPrintable(shown)).toBe(true);
        expect(isPrintable(text)).toBe(!UNSAFE.test(text));
        if (isPrintable(text)) expect(shown).toBe(text);
        expect(
          printableLines(text)
            .split(/[\n\t]/)
            .join(''),
        ).not.toMatch(UNSAFE);
        // Each unsafe character becomes its escape; the rest stays in place. (A backslash in the
        // input could read as an escape, so such inputs skip this check.)
        if (text.includes('\\')) return;
        const unescaped = shown.replace(/\\x([0-9a-f]{2})|\\u([0-9a-f]{4})/g, (all, x: string, u: string) => {
          const char = String.fromCharCode(Number.parseInt(x ?? u, 16));
          return UNSAFE.test(char) ? char : all;
        });
        expect(unescaped).toBe(text);
      }),
      { numRuns: fuzzRuns(500) },
    );
  });
});
