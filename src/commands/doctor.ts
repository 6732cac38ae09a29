// `tsbpf doctor [--json]`: what this machine lacks to build and run tsbpf programs, with fixes.
// Exit status 0 when ready (missing optional features are warnings), 1 otherwise.

import type { CommandModule } from 'yargs';

interface DoctorArgs {
  json?: boolean;
  clang?: string;
}

const command: CommandModule<object, DoctorArgs> = {
  command: 'doctor',
  describe: 'Check that this machine can build and run eBPF programs',
  builder: (yargs) =>
    yargs
      .option('json', { type: 'boolean', describe: 'Print the report as JSON ({ ready, checks })' })
      .option('clang', {
        type: 'string',
        describe: 'Check this clang instead of the newest on PATH (also TSBPF_CLANG)',
      }),
  handler: async (args) => {
    const { runDoctor, formatReport } = await import('../doctor/index.js');
    const report = await runDoctor(args.clang ? { clang: args.clang } : {});
    process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    if (!report.ready) process.exitCode = 1;
  },
};

export default command;
