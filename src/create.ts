#!/usr/bin/env node
// `create-tsbpf` (also `npm create tsbpf`): a new project from a template. The command is the
// same module as `tsbpf create`, mounted as the only command.

import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import createCommand, { createOptions } from './commands/create.js';
import { describeError, TsbpfError, UsageError } from './errors.js';
import { red } from './output.js';
import { packageVersion } from './version.js';

async function main(argv: string[]): Promise<void> {
  await yargs(argv)
    .scriptName('create-tsbpf')
    .command({ ...createCommand, command: '$0 [dir]', builder: (y) => createOptions(y, '$0') })
    .version(packageVersion())
    .strict()
    .help()
    .alias('help', 'h')
    .wrap(Math.min(110, process.stdout.columns || 80))
    .fail((message, error) => {
      throw (
        error ??
        new UsageError(message ?? 'invalid arguments', { hint: 'run create-tsbpf --help to see the options' })
      );
    })
    .parseAsync();
}

main(hideBin(process.argv)).catch((error: unknown) => {
  if (error instanceof TsbpfError) {
    process.stderr.write(`${red('error:', process.stderr)} ${describeError(error)}\n`);
    process.exit(1);
  }
  process.stderr.write(
    `${red('internal error:', process.stderr)} ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(2);
});
