// `tsbpf build [--check | --watch] [--config FILE] [--target ...] [-j N]`: compiles every program of
// tsbpf.config.json (or package.json's "tsbpf") and writes their typed loaders, skipping those
// already up to date. Parsing only; src/build does the work.

import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';

interface BuildArgs {
  check?: boolean;
  config?: string;
  target?: string | string[];
  jobs?: number;
  force?: boolean;
  json?: boolean;
  watch?: boolean;
}

const command: CommandModule<object, BuildArgs> = {
  command: 'build',
  describe: 'Compile the configured C programs and write typed loaders',
  builder: (yargs: Argv) =>
    yargs
      .option('check', {
        type: 'boolean',
        describe: 'Write nothing; exit 1 listing stale or missing outputs (for CI)',
      })
      .option('config', {
        alias: 'c',
        type: 'string',
        describe: 'Config file (default: tsbpf.config.json or package.json)',
      })
      .option('target', {
        type: 'string',
        describe: "Targets for every program, comma-separated (default: the config's, else bpfel,bpfeb)",
      })
      .option('jobs', {
        alias: 'j',
        type: 'number',
        describe: 'clang processes at once (default: the CPU count)',
      })
      .option('force', { type: 'boolean', describe: 'Rebuild even what is up to date' })
      .option('json', { type: 'boolean', describe: 'Print the result as JSON' })
      .option('watch', {
        alias: 'w',
        type: 'boolean',
        describe: 'Rebuild on every change to a source, an included header or the config; Ctrl-C stops',
        conflicts: ['check', 'json', 'force'],
      })
      .example('$0 build', 'build what changed')
      .example('$0 build --check', 'in CI: fail when generated files are stale')
      .example('$0 build --watch', 'while developing: rebuild on every change') as Argv<BuildArgs>,
  handler: async (args: ArgumentsCamelCase<BuildArgs>) => {
    const { runBuildCommand, runWatchCommand } = await import('../build/commands.js');
    if (args.watch) {
      await runWatchCommand({
        config: args.config,
        targets: args.target === undefined ? [] : ([] as string[]).concat(args.target),
        jobs: args.jobs,
      });
      return;
    }
    const ok = await runBuildCommand({
      check: args.check ?? false,
      config: args.config,
      targets: args.target === undefined ? [] : ([] as string[]).concat(args.target),
      jobs: args.jobs,
      force: args.force ?? false,
      json: args.json ?? false,
    });
    if (!ok) process.exitCode = 1;
  },
};

export default command;
