// How both bins (tsbpf, create-tsbpf) end on an error: a user's mistake is one line with its
// hint and exit 1 (details with --verbose); anything else is a tsbpf bug and shows its stack.

import { describeError, TsbpfError } from './errors.js';
import { debug, isVerbose, red } from './output.js';

export function reportAndExit(error: unknown): never {
  if (error instanceof TsbpfError) {
    process.stderr.write(`${red('error:', process.stderr)} ${describeError(error)}\n`);
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
