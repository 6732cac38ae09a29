// `tsbpf btfgen --object x.o --btf vmlinux-5.15.btf [--kernel /boot/vmlinuz-6.1] --out-dir btf/`:
// minimal BTF per kernel for the objects, to load with `load({ kernelBtf })` where the kernel
// has no /sys/kernel/btf/vmlinux.

import type { CommandModule } from 'yargs';
import { UsageError } from '../errors.js';

interface BtfgenArgs {
  object: string[];
  btf?: string[];
  kernel?: string[];
  'out-dir': string;
  json?: boolean;
}

const command: CommandModule<object, BtfgenArgs> = {
  command: 'btfgen',
  describe: 'Write minimal BTF for given objects and kernels (for kernels without /sys/kernel/btf)',
  builder: (yargs) =>
    yargs
      .option('object', {
        type: 'string',
        array: true,
        demandOption: true,
        describe: 'BPF object (repeatable)',
      })
      .option('btf', {
        type: 'string',
        array: true,
        describe: "A kernel's full BTF: raw BTF or a vmlinux ELF (repeatable)",
      })
      .option('kernel', {
        type: 'string',
        array: true,
        describe: 'A vmlinuz/vmlinux to take the BTF from (repeatable)',
      })
      .option('out-dir', { type: 'string', default: 'btf', describe: 'Where to write <kernel>.btf files' })
      .option('json', { type: 'boolean', describe: 'Print the result as JSON' })
      .check((args) => {
        if (!args.btf?.length && !args.kernel?.length) {
          throw new UsageError(
            'btfgen needs the kernels to make BTF for: give at least one --btf or --kernel',
            {
              hint: 'this kernel: tsbpf btfgen --object x.o --btf /sys/kernel/btf/vmlinux',
            },
          );
        }
        return true;
      })
      .example('$0 btfgen --object probe_bpfel.o --btf /sys/kernel/btf/vmlinux', 'minimal BTF of this kernel')
      .example(
        '$0 btfgen --object probe_bpfel.o --kernel /boot/vmlinuz-6.1.0-26-amd64',
        'from a kernel image',
      ),
  handler: async (args) => {
    const { extractKernelBtf, generateMinimalBtf } = await import('../btfgen/index.js');
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { basename, join } = await import('node:path');
    const scratch = await mkdtemp(join(tmpdir(), 'tsbpf-btfgen-'));
    try {
      const kernels = [...(args.btf ?? [])];
      for (const k of args.kernel ?? []) {
        const out = join(scratch, `${basename(k).replace(/^vmlinu[xz]-?/, '') || 'vmlinux'}.btf`);
        kernels.push((await extractKernelBtf(k, out)).path);
      }
      const results = await generateMinimalBtf({ objects: args.object, kernels, outDir: args['out-dir'] });
      if (args.json) {
        process.stdout.write(`${JSON.stringify(results)}\n`);
      } else {
        for (const r of results)
          process.stdout.write(`wrote ${r.output} (${r.size} bytes, from ${r.inputSize})\n`);
      }
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  },
};

export default command;
