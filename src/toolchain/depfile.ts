// Reads the make-style dependency files clang writes with -MD -MF, so builds can tell which
// headers an object depends on. Escapes follow clang's (clang/lib/Frontend/DependencyFile.cpp):
// a space or '#' is preceded by a backslash, '$' is doubled, lines continue with a backslash.

export interface Depfile {
  /** The rule's targets (normally the one object). */
  targets: string[];
  /** Every file read: the source first, then headers. */
  dependencies: string[];
}

function splitWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    const next = text[i + 1];
    if (c === '\\' && (next === ' ' || next === '#')) {
      word += next;
      i++;
    } else if (c === '$' && next === '$') {
      word += '$';
      i++;
    } else if (c === ' ' || c === '\t') {
      if (word) words.push(word);
      word = '';
    } else {
      word += c;
    }
  }
  if (word) words.push(word);
  return words;
}

/** Parses a depfile; several rules are merged. Unknown text yields empty lists, never throws. */
export function parseDepfile(text: string): Depfile {
  const joined = text.replace(/\\\r?\n/g, ' ');
  const targets: string[] = [];
  const dependencies: string[] = [];
  for (const line of joined.split(/\r?\n/)) {
    // The rule separator is the first ':' followed by whitespace or the end (not 'C:\').
    const match = /:(\s|$)/.exec(line);
    if (!match) continue;
    for (const t of splitWords(line.slice(0, match.index))) if (!targets.includes(t)) targets.push(t);
    for (const d of splitWords(line.slice(match.index + 1)))
      if (!dependencies.includes(d)) dependencies.push(d);
  }
  return { targets, dependencies };
}
