// `tsbpf vmlinux [--btf FILE] [--out FILE] [--force]`: writes vmlinux.h from kernel BTF.

import type { CommandModule } from 'yargs';

interface VmlinuxArgs {
  btf?: string;
  out: string;
  force?: boolean;
  json?: boolean;
}

const command: CommandModule<object, VmlinuxArgs> = {
  command: 'vmlinux',
  describe: "Write vmlinux.h from the kernel's BTF (no work when the BTF is unchanged)",
  builder: (yargs) =>
    yargs
      .option('btf', {
        type: 'string',
        describe: 'BTF to read (default: the running kernel, /sys/kernel/btf/vmlinux)',
      })
      .option('out', { type: 'string', default: 'vmlinux.h', describe: 'Where to write the header' })
      .option('force', { type: 'boolean', describe: 'Regenerate even when the BTF is unchanged' })
      .option('json', { type: 'boolean', describe: 'Print the result as JSON' })
      .example('$0 vmlinux --out src/bpf/vmlinux.h', 'header for the running kernel')
      .example('$0 vmlinux --btf ./vmlinux-5.15.btf --out vmlinux.h', 'header for another kernel'),
  handler: async (args) => {
    const { generateVmlinux } = await import('../toolchain/vmlinux.js');
    const result = await generateVmlinux({
      out: args.out,
      ...(args.btf !== undefined ? { btf: args.btf } : {}),
      ...(args.force ? { force: true } : {}),
    });
    if (args.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      process.stdout.write(result.written ? `wrote ${result.path}\n` : `${result.path} is up to date\n`);
    }
  },
};

export default command;
