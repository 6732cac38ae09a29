// Text that came from somewhere tsbpf does not trust (an object's names, an event's comm or
// filename) made safe to show: C0/C1 control characters, DEL and the Unicode characters that
// reorder or hide text (bidi overrides, zero-width marks) are written as escapes, so they can
// neither drive the terminal (ESC sequences move the cursor, retitle windows, rewrite lines
// already printed) nor make a line read differently from what it contains.

/** Characters never shown as they are: controls, DEL, C1, bidi embeddings/overrides/isolates, BOM. */
const unsafe = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/gu;

const escaped = (char: string): string => {
  const code = char.codePointAt(0) ?? 0;
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
};

/** `text` with every control or text-reordering character written as `\xNN` / `\uNNNN`. */
export function printable(text: string): string {
  return text.replace(unsafe, escaped);
}

/** True when `text` would be shown unchanged by printable(). */
export function isPrintable(text: string): boolean {
  unsafe.lastIndex = 0;
  const found = unsafe.test(text);
  unsafe.lastIndex = 0;
  return !found;
}

/** printable() for multi-line text such as an error with a compiler's diagnostics: newlines and tabs stay. */
export function printableLines(text: string): string {
  return text
    .split('\n')
    .map((line) => line.split('\t').map(printable).join('\t'))
    .join('\n');
}
