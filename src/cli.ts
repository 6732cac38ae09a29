#!/usr/bin/env node
// The `tsbpf` command line. Only the command being run is imported, so `tsbpf --help`
// stays fast; each command module parses its options and calls into a library module.
// The bin runs this bundled (scripts/bundle.mjs: one file per command, dependencies included).

import type { Argv, CommandModule } from 'yargs';
import { baseParser } from './cli-base.js';

// Each command module's default export is a yargs CommandModule typed by its own options.
type CommandLoader = () => Promise<{ default: unknown }>;

/** Every command: its name, a one-line summary for the root --help, and its module. */
const commands: ReadonlyArray<{ name: string; describe: string; load: CommandLoader }> = [
  {
    name: 'build',
    describe: 'Compile the configured C programs and write typed loaders',
    load: () => import('./commands/build.js'),
  },
  {
    name: 'gen',
    describe: 'Write a typed loader from C sources or prebuilt objects',
    load: () => import('./commands/gen.js'),
  },
  {
    name: 'vmlinux',
    describe: "Write vmlinux.h from the kernel's BTF",
    load: () => import('./commands/vmlinux.js'),
  },
  {
    name: 'btfgen',
    describe: 'Write minimal BTF for objects and kernels without /sys/kernel/btf',
    load: () => import('./commands/btfgen.js'),
  },
  {
    name: 'doctor',
    describe: 'Check that this machine can build and run eBPF programs',
    load: () => import('./commands/doctor.js'),
  },
  {
    name: 'trace',
    describe: 'Stream bpf_printk() output from the kernel trace pipe',
    load: () => import('./commands/trace.js'),
  },
  {
    name: 'create',
    describe: 'Create a new tsbpf project from a template',
    load: () => import('./commands/create.js'),
  },
];

export async function main(argv: string[]): Promise<void> {
  const requested = argv.find((arg) => !arg.startsWith('-'));
  const chosen = commands.find((c) => c.name === requested);

  let parser: Argv = baseParser(
    argv,
    'tsbpf',
    commands.map((c) => c.name),
  )
    .usage('$0 <command> [options]')
    // A mistyped command is an unknown argument to the root: cli-base suggests the nearest.
    .demandCommand(1, 'Name a command: tsbpf <command> (tsbpf --help lists them).');

  for (const command of commands) {
    if (command === chosen) {
      parser = parser.command((await command.load()).default as CommandModule);
    } else {
      parser = parser.command(command.name, command.describe);
    }
  }
  await parser.parseAsync();
}

// process.argv minus node and the script (what yargs/helpers' hideBin returns under Node; not
// importing it saves loading a second yargs entry point at start-up). The error reporter is loaded
// only when there is an error to report.
main(process.argv.slice(2)).catch(async (error: unknown) => {
  const { reportAndExit } = await import('./report.js');
  reportAndExit(error);
});
