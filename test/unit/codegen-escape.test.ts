// The escape helpers generated code takes untrusted names through (src/codegen/escape.ts): each
// keeps its context closed for any input, and leaves ordinary C names as they are.
import fc from 'fast-check';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import {
  codeSpan,
  commentText,
  docText,
  objectKey,
  printableError,
  stringLiteral,
  templateText,
} from '../../src/codegen/escape.js';
import { propertyKey } from '../../src/codegen/naming.js';
import { FormatError, UsageError } from '../../src/errors.js';
import { fuzzRuns } from '../helpers/fuzz.js';

/** Any string, weighted towards what ends comments, strings and templates. */
const nasty = fc.string({
  unit: fc.oneof(
    fc.constantFrom('*/', '/*', '`', '${', '$', '{', '}', '\\', "'", '"', '\n', '\r', '\u2028', '\u2029'),
    fc.constantFrom(
      '\u001b',
      '\u0000',
      '\u007f',
      '\u009b',
      '\u202e',
      '\ufeff',
      '@',
      '<',
      '&',
      '](',
      '\ud800',
    ),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  ),
  maxLength: 30,
});

/** Raw characters generated text must not hold (line feed aside). */
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/u;
const LONE_SURROGATE = /[\ud800-\udfff]/u;

/** Ordinary names and C spellings, which every helper must leave unchanged. */
const ORDINARY = [
  'event_t',
  'struct event_t',
  'char[16]',
  'u32[2][3]',
  'unsigned int *',
  'const volatile __u64 min_duration',
  'int (*)(int, char *)',
  'struct (anon)',
  'tracepoint/syscalls/sys_enter_openat',
  'uprobe//lib/x86_64-linux-gnu/libc.so.6:malloc@GLIBC_2.2.5',
  '.rodata',
  '.data.counters',
  'probe_bpfel.o',
];

/** The statements of `code` as TypeScript parses it, and its parse errors. */
function parse(code: string) {
  const sf = ts.createSourceFile('x.ts', code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  return {
    sf,
    statements: sf.statements.map((s) =>
      ts.isVariableStatement(s) ? 'VariableStatement' : ts.SyntaxKind[s.kind],
    ),
    errors: ((sf as { parseDiagnostics?: unknown[] }).parseDiagnostics ?? []).length,
  };
}

/** The value of the one expression statement of `code`. */
function evaluate(code: string): unknown {
  return new Function(`return (${code});`)();
}

describe('escape helpers', () => {
  it('leave ordinary names unchanged', () => {
    for (const name of ORDINARY) {
      expect(commentText(name)).toBe(name);
      expect(docText(name)).toBe(name);
      expect(codeSpan(name)).toBe(`\`${name}\``);
      expect(stringLiteral(name)).toBe(`'${name}'`);
      expect(stringLiteral(name, '"')).toBe(`"${name}"`);
      expect(templateText(name)).toBe(name);
    }
  });

  it('keep comments closed, on one line, without JSDoc tags', () => {
    expect(commentText('x */ evil(); /*')).toBe('x *\\/ evil(); /*');
    expect(commentText('a\nb\u2028c')).toBe('a\\x0ab\\u2028c');
    expect(commentText('@param x {@link y} a@b')).toBe('\\@param x {\\@link y} a@b');
    expect(commentText('\u001b[2J')).toBe('\\x1b[2J');
    expect(commentText('a\ud800b')).toBe('a\\ud800b');
  });

  it('escape markdown in JSDoc prose and fence code spans', () => {
    expect(docText('[click](javascript:x) <img src=x> &#x202e; `code`')).toBe(
      '[click]\\(javascript:x) \\<img src=x\\> \\&#x202e; \\`code\\`',
    );
    expect(docText('a\\b')).toBe('a\\\\b');
    expect(codeSpan('a`b')).toBe('``a`b``');
    expect(codeSpan('`a``')).toBe('``` `a`` ```');
    expect(codeSpan('')).toBe('` `');
    expect(codeSpan('x */ y')).toBe('`x *\\/ y`');
  });

  it('quote strings and template text so that they evaluate to the name exactly', () => {
    expect(stringLiteral("it's \\ \n \u2028 \u001b")).toBe("'it\\'s \\\\ \\u000a \\u2028 \\u001b'");
    expect(stringLiteral('say "hi"', '"')).toBe('"say \\"hi\\""');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the `${` is the hostile text
    expect(templateText('`${x}` $ \\')).toBe('\\`\\${x}\\` \\$ \\\\');
  });

  it('quote property keys that are not identifiers, and compute __proto__ in object literals', () => {
    expect(propertyKey('pid')).toBe('pid');
    expect(propertyKey('a b')).toBe('"a b"');
    expect(propertyKey('x\u2028"y')).toBe('"x\\u2028\\"y"');
    expect(objectKey('__proto__')).toBe('["__proto__"]');
    expect(objectKey(propertyKey('__proto__'))).toBe('["__proto__"]');
    expect(objectKey('proto')).toBe('proto');
    const object = evaluate(`{ ${objectKey('__proto__')}: 1 }`) as Record<string, unknown>;
    expect(Object.keys(object)).toEqual(['__proto__']);
  });

  it('make errors about an object printable, keeping their class', () => {
    const error = new UsageError('map m\u001b[31m', { hint: 'its maps: \u001b]0;x\u0007' });
    expect(printableError(error)).toBe(error);
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe('map m\\x1b[31m');
    expect(error.hint).toBe('its maps: \\x1b]0;x\\x07');
    expect(error.stack).not.toMatch(RAW);
    const format = printableError(new FormatError('bad\u009b\n\tname\r')) as FormatError;
    expect([format.message, format.hint]).toEqual(['bad\\x9b\n\tname\\x0d', undefined]);
    expect(printableError('text')).toBe('text');
  });

  it('keep any name inside its comment, string, template or key (property)', () => {
    fc.assert(
      fc.property(nasty, (name) => {
        for (const comment of [
          `/** ${docText(name)} */\nexport const a = 1;`,
          `/** ${codeSpan(name)} */\nexport const a = 1;`,
          `// ${commentText(name)}\nexport const a = 1;`,
        ]) {
          const { statements, errors, sf } = parse(comment);
          expect(statements).toEqual(['VariableStatement']);
          expect(errors).toBe(0);
          const tags = ts.getJSDocTags(sf.statements[0]!);
          expect(tags).toHaveLength(0);
          expect(comment).not.toMatch(RAW);
          expect(comment).not.toMatch(LONE_SURROGATE);
        }
        for (const literal of [stringLiteral(name), stringLiteral(name, '"'), `\`${templateText(name)}\``]) {
          const { statements, errors } = parse(`export const a = ${literal};`);
          expect(statements).toEqual(['VariableStatement']);
          expect(errors).toBe(0);
          expect(literal).not.toMatch(RAW);
          expect(literal).not.toMatch(LONE_SURROGATE);
          expect(evaluate(literal)).toBe(name);
        }
        const key = objectKey(propertyKey(name));
        expect(Object.keys(evaluate(`{ ${key}: 1 }`) as object)).toEqual([name]);
        expect(parse(`interface I { ${propertyKey(name)}: number }`).errors).toBe(0);
      }),
      { numRuns: fuzzRuns(400) },
    );
  });
});
