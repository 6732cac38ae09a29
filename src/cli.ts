#!/usr/bin/env node
// The `tsbpf` command line. Only the command being run is imported, so `tsbpf --help`
// stays fast; each command module parses its options and calls into a library module.

import type { Argv, CommandModule } from 'yargs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { describeError, TsbpfError, UsageError } from './errors.js';
import { debug, isVerbose, red, setVerbose } from './output.js';
import { packageVersion } from './version.js';

type CommandLoader = () => Promise<{ default: CommandModule }>;

/** Every command: its name, a one-line summary for the root --help, and its module. */
const commands: ReadonlyArray<{ name: string; describe: string; load: CommandLoader }> = [
  { name: 'build', describe: 'Compile the configured C programs and write typed loaders', load: () => import('./commands/build.js') },
  { name: 'gen', describe: 'Write a typed loader from C sources or prebuilt objects', load: () => import('./commands/gen.js') },
  { name: 'vmlinux', describe: "Write vmlinux.h from the kernel's BTF", load: () => import('./commands/vmlinux.js') },
  { name: 'doctor', describe: 'Check that this machine can build and run eBPF programs', load: () => import('./commands/doctor.js') },
  { name: 'trace', describe: 'Stream bpf_printk() output from the kernel trace pipe', load: () => import('./commands/trace.js') },
  { name: 'create', describe: 'Create a new tsbpf project from a template', load: () => import('./commands/create.js') },
];

export async function main(argv: string[]): Promise<void> {
  const requested = argv.find((arg) => !arg.startsWith('-'));
  const chosen = commands.find((c) => c.name === requested);

  let parser: Argv = yargs(argv)
    .scriptName('tsbpf')
    .usage('$0 <command> [options]')
    .version(packageVersion())
    .option('verbose', { type: 'boolean', describe: 'Show details and stack traces (also DEBUG=tsbpf)', global: true })
    .middleware((args) => setVerbose(Boolean(args.verbose)))
    .strict()
    .demandCommand(1, 'Name a command: tsbpf <command> (tsbpf --help lists them).')
    .recommendCommands()
    .help()
    .alias('help', 'h')
    .wrap(Math.min(110, process.stdout.columns || 80))
    .fail((message, error) => {
      throw error ?? new UsageError(message ?? 'invalid arguments', { hint: 'run with --help to see the options' });
    });

  for (const command of commands) {
    if (command === chosen) {
      parser = parser.command((await command.load()).default);
    } else {
      parser = parser.command(command.name, command.describe);
    }
  }
  await parser.parseAsync();
}

export function reportAndExit(error: unknown): never {
  if (error instanceof TsbpfError) {
    process.stderr.write(`${red('error:', process.stderr)} ${describeError(error)}\n`);
    if (isVerbose()) {
      debug(error.stack ?? '');
      if (error.cause) debug(`caused by: ${error.cause instanceof Error ? error.cause.stack : String(error.cause)}`);
    }
    process.exit(1);
  }
  // Anything else is a bug in tsbpf: show everything.
  process.stderr.write(`${red('internal error:', process.stderr)} ${error instanceof Error ? error.stack : String(error)}\n`);
  process.stderr.write('Please report this at the tsbpf issue tracker.\n');
  process.exit(2);
}

main(hideBin(process.argv)).catch(reportAndExit);
