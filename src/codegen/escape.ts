// Names read from an eBPF object (section, symbol and BTF names) are untrusted text: a section
// named `x */ run(); /*` must not close the comment that documents it, nor a map name end its
// string literal, nor an ESC sequence reach a terminal. Every such name reaches generated text or
// a message through one of these helpers, picked by where it lands. Each leaves ordinary C names
// unchanged, so the output for them stays byte-identical.

import { printable, printableLines } from '../printable.js';

/** UTF-16 code units no code point owns (with the u flag, paired surrogates are not matched). */
const loneSurrogate = /[\ud800-\udfff]/gu;

/** Characters a string literal must not hold raw: what printable() escapes, plus lone surrogates. */
const unsafeInString =
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]|[\ud800-\udfff]/gu;

const unicodeEscape = (char: string): string =>
  `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`;

/** printable() and lone surrogates as `\uNNNN` (written as UTF-8 they would turn into U+FFFD). */
function visible(text: string): string {
  return printable(text).replace(loneSurrogate, unicodeEscape);
}

/**
 * Text inside a comment, line or block: no line break (printable() escapes them), no `*\/` that
 * would end the comment, and no `@` that would start a JSDoc tag (`@param`, `{@link …}`).
 */
export function commentText(text: string): string {
  return visible(text)
    .replace(/\*\//g, '*\\/')
    .replace(/(^|[\s{])@/g, '$1\\@');
}

/**
 * Prose in a JSDoc comment, which editors render as markdown: also escapes what would make a link,
 * an image, HTML, an entity or a code span (`[x](url)`, `<img>`, `&#x202e;`, backticks).
 */
export function docText(text: string): string {
  const markdown = text.replace(/[\\`<>&]/g, '\\$&').replace(/\]\(/g, ']\\(');
  return commentText(markdown);
}

/** A markdown code span of `text` in a JSDoc comment, fenced by more backticks than it holds. */
export function codeSpan(text: string): string {
  const inner = commentText(text);
  const longest = Math.max(0, ...(inner.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  // A space each side keeps a backtick at either end from joining the fence (CommonMark strips
  // it); an empty span would be no span.
  const padded = inner === '' ? ' ' : inner.startsWith('`') || inner.endsWith('`') ? ` ${inner} ` : inner;
  return `${fence}${padded}${fence}`;
}

/**
 * A TS string literal that evaluates to `text` exactly (the loader looks programs and maps up by
 * their real names), with quotes, backslashes, line breaks and invisible characters escaped.
 */
export function stringLiteral(text: string, quote: "'" | '"' = "'"): string {
  const body = text
    .replace(/\\/g, '\\\\')
    .replace(quote === "'" ? /'/g : /"/g, `\\${quote}`)
    .replace(unsafeInString, unicodeEscape);
  return `${quote}${body}${quote}`;
}

/** `text` as the literal part of a template literal: backslashes, backticks and every `$` escaped. */
export function templateText(text: string): string {
  return text
    .replace(/\\/g, '\\\\')
    .replace(/`/g, '\\`')
    .replace(/\$/g, () => '\\$')
    .replace(unsafeInString, unicodeEscape);
}

/** A property key in an object literal: `__proto__: x` would set the prototype, a computed key does not. */
export function objectKey(key: string): string {
  return key === '__proto__' || key === '"__proto__"' ? '["__proto__"]' : key;
}

/**
 * Makes an error about an object safe to print (`tsbpf build` prints a failed program's error as
 * it is): its message, hint and stack through printableLines(). Mutated in place, so its class and
 * cause stay what the thrower made.
 */
export function printableError(error: unknown): unknown {
  if (error instanceof Error) {
    error.message = printableLines(error.message);
    if (error.stack !== undefined) error.stack = printableLines(error.stack);
    const withHint = error as Error & { hint?: unknown };
    if (typeof withHint.hint === 'string') {
      Object.defineProperty(error, 'hint', { value: printableLines(withHint.hint) });
    }
  }
  return error;
}
