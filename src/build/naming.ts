// How C names become TypeScript names in generated loaders: camelCase for values
// (programs, maps, variables), PascalCase for types and the exported functions' stems.

import { UsageError } from '../errors.js';

/** Splits a C or TS name into lowercase-insensitive words: `uretprobe_bash_readline`, `XDPProg2` ... */
function words(name: string): string[] {
  return (
    name
      // fooBar -> foo Bar, HTTPServer -> HTTP Server, abc2Def -> abc2 Def
      .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
      .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
      .split(/[^A-Za-z0-9]+/)
      .filter((w) => w.length > 0)
  );
}

const capitalise = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1).toLowerCase();

/**
 * camelCase of a C name: `uretprobe_bash_readline` -> `uretprobeBashReadline`,
 * `__sys_enter` -> `sysEnter`. A name that would start with a digit gets a leading `_`.
 */
export function camelCase(name: string): string {
  const parts = words(name);
  if (parts.length === 0) return '_';
  const [first = '', ...rest] = parts;
  const result = first.toLowerCase() + rest.map(capitalise).join('');
  return /^[0-9]/.test(result) ? `_${result}` : result;
}

/** PascalCase of a C name or identifier: `probe` -> `Probe`, `tcp_rtt` -> `TcpRtt`. */
export function pascalCase(name: string): string {
  const result = words(name).map(capitalise).join('');
  if (result === '') return '_';
  return /^[0-9]/.test(result) ? `_${result}` : result;
}

/**
 * Gives every C name a distinct camelCase property name. When two C names fold to the same
 * camelCase (`foo_bar` and `fooBar`), both keep their C spelling instead, so nothing is
 * silently shadowed and the mapping stays obvious to a reader.
 */
export function propertyNames(cNames: readonly string[]): Map<string, string> {
  const byCamel = new Map<string, string[]>();
  for (const name of cNames) {
    const camel = camelCase(name);
    byCamel.set(camel, [...(byCamel.get(camel) ?? []), name]);
  }
  const result = new Map<string, string>();
  for (const name of cNames) {
    const camel = camelCase(name);
    result.set(name, (byCamel.get(camel)?.length ?? 0) > 1 ? name : camel);
  }
  return result;
}

/**
 * Checks an identifier given on the command line or in the config: it names the output files
 * (`<ident>_bpfel.o`, `<ident>.ts`) and the exported functions (`load<Ident>`), so it must be a
 * plain C-like identifier.
 */
export function checkIdent(ident: string, where = 'identifier'): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(ident)) {
    throw new UsageError(`${where} "${ident}" is not a valid identifier`, {
      hint: 'use letters, digits and underscores, starting with a letter (for example: probe, tcp_rtt)',
    });
  }
  return ident;
}

/**
 * Edit distance for "did you mean": insertions, deletions, substitutions and swaps of two
 * adjacent letters (`chekc` is one step from `check`) each cost one.
 */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => rows[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const substitution = at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1);
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, substitution);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, at(i - 2, j - 2) + 1);
      }
      (rows[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The candidates closest to `name`, best first: substring matches and names within a small
 * edit distance. Used by errors that say "no type X; similar: ...".
 */
export function similarNames(name: string, candidates: Iterable<string>, limit = 5): string[] {
  const wanted = name.toLowerCase();
  const scored: Array<{ name: string; score: number }> = [];
  for (const candidate of new Set(candidates)) {
    const lower = candidate.toLowerCase();
    const distance = editDistance(wanted, lower);
    const contains =
      lower.includes(wanted) || (wanted.length >= 3 && wanted.includes(lower) && lower.length >= 3);
    const threshold = Math.max(2, Math.floor(wanted.length / 3));
    if (distance <= threshold || contains)
      scored.push({ name: candidate, score: contains ? distance / 2 : distance });
  }
  scored.sort((a, b) => a.score - b.score || a.name.length - b.name.length || (a.name < b.name ? -1 : 1));
  return scored.slice(0, limit).map((s) => s.name);
}
