// Did-you-mean for the command line: a mistyped option or command ends as one line naming what was
// typed and the nearest real name, as git and cargo say it, instead of yargs' bare
// "Unknown argument: chek".

/** Edit distance (insertions, deletions, substitutions, adjacent swaps) between two names. */
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
