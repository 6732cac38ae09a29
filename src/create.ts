#!/usr/bin/env node
// `create-tsbpf` (also `npm create tsbpf`): a new project from a template. The command is the
// same module as `tsbpf create`, mounted as the only command.

import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import createCommand, { createOptions } from './commands/create.js';
import { UsageError } from './errors.js';
import { reportAndExit } from './report.js';
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

main(hideBin(process.argv)).catch(reportAndExit);
