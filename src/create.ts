#!/usr/bin/env node
// `create-tsbpf` (also `npm create tsbpf`): a new project from a template. The command is the
// same module as `tsbpf create`, mounted as the only command.

import { hideBin } from 'yargs/helpers';
import { baseParser } from './cli-base.js';
import createCommand, { createOptions } from './commands/create.js';
import { reportAndExit } from './report.js';

async function main(argv: string[]): Promise<void> {
  await baseParser(argv, 'create-tsbpf')
    .command({ ...createCommand, command: '$0 [dir]', builder: (y) => createOptions(y, '$0') })
    .parseAsync();
}

main(hideBin(process.argv)).catch(reportAndExit);
