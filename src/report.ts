// How both bins (tsbpf, create-tsbpf) end on an error: a user's mistake (a TsbpfError, or a
// filesystem error on a path they gave) is one line with its hint and exit 1 (details with
// --verbose); anything else is a tsbpf bug and shows its stack.

import { describeError, TsbpfError } from './errors.js';
import { debug, isVerbose, red } from './output.js';
import { printableLines } from './printable.js';
import { userErrorOf } from './system-error.js';

export function reportAndExit(thrown: unknown): never {
  const error = userErrorOf(thrown) ?? thrown;
  if (error instanceof TsbpfError) {
    // Messages can quote what an object, a kernel log or a path holds: no control character of
    // theirs reaches the terminal.
    const text = printableLines(describeError(error));
    process.stderr.write(`${red('error:', process.stderr)} ${text}\n`);
    if (isVerbose()) {
      debug(error.stack ?? '');
      if (error.cause)
        debug(`caused by: ${error.cause instanceof Error ? error.cause.stack : String(error.cause)}`);
    }
    process.exit(1);
  }
  process.stderr.write(
    `${red('internal error:', process.stderr)} ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.stderr.write('This is a bug in tsbpf; please report it with the output above.\n');
  process.exit(2);
}
