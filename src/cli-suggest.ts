// Did-you-mean for the command line: a mistyped option or command ends as one line naming what was
// typed and the nearest real name, as git and cargo say it, instead of yargs' bare
// "Unknown argument: chek".

import { editDistance } from './build/naming.js';

/** The candidate nearest to `typed`, when it is near enough to be what was meant. */
export function closest(typed: string, candidates: Iterable<string>): string | undefined {
  // A third of the name may be wrong (at least one letter, at most three): `chek` finds `check`.
  // A name of one or two letters is too short to guess from (`-x` is not a typo of `-h`), but
  // its case may be wrong (`-J`).
  const limit = typed.length < 3 ? 0 : Math.min(3, Math.max(1, Math.floor(typed.length / 3)));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(typed.toLowerCase(), candidate.toLowerCase());
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** How an option is typed: `--check`, or `-j` for one letter. */
export const asFlag = (name: string): string => (name.length === 1 ? `-${name}` : `--${name}`);

/** "unknown option --chek; did you mean --check?" for each unknown name (as yargs reports them). */
export function unknownOptionsMessage(unknown: string[], known: Iterable<string>): string {
  const names = [...known];
  return unknown
    .map((name) => {
      const typed = asFlag(name);
      const guess = closest(name, names);
      return guess ? `unknown option ${typed}; did you mean ${asFlag(guess)}?` : `unknown option ${typed}`;
    })
    .join('; ');
}
