// `tsbpf create [dir]`: the same command as `create-tsbpf` (src/create.ts uses this module as its
// only command). Parses the options and hands them to the scaffolder.

import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { isInteractive } from '../output.js';
import { templateTypes } from '../scaffold/templates.js';

interface CreateOptions {
  dir?: string;
  type?: string;
  name?: string;
  force?: boolean;
  install?: boolean;
  tsbpfVersion?: string;
}

const types = templateTypes.join(', ');

/** The options of `tsbpf create` and `create-tsbpf`; `invocation` is how the examples start. */
export function createOptions(yargs: Argv, invocation: string): Argv<CreateOptions> {
  return yargs
    .positional('dir', { type: 'string', describe: 'Project directory (. for the current one)' })
    .option('type', { alias: 't', type: 'string', describe: `Program type: ${types}` })
    .option('name', { type: 'string', describe: "Package name (default: the directory's name)" })
    .option('force', {
      type: 'boolean',
      describe: 'Write into a non-empty directory, replacing files with the same names',
    })
    .option('install', {
      type: 'boolean',
      describe: 'Install dependencies (npm, or the pnpm/yarn/bun that ran this)',
    })
    .option('tsbpf-version', {
      type: 'string',
      describe: "npm spec for the project's tsbpf dependency (default: this tsbpf's version)",
    })
    .example(`${invocation} my-probe --type uretprobe`, 'a bash readline tracer in ./my-probe')
    .example(
      `${invocation} . --type xdp --install`,
      'an XDP counter here, dependencies installed',
    ) as Argv<CreateOptions>;
}

const command: CommandModule<object, CreateOptions> = {
  command: 'create [dir]',
  describe: 'Create a new tsbpf project from a template',
  builder: (yargs: Argv) => createOptions(yargs, '$0 create'),
  handler: async (args: ArgumentsCamelCase<CreateOptions>) => {
    const { createProject, clackPrompter } = await import('../scaffold/index.js');
    // Prompts only on a terminal; anywhere else a missing argument is an error naming the flag.
    const interactive = isInteractive();
    await createProject(
      {
        dir: args.dir,
        type: args.type,
        name: args.name,
        force: args.force,
        install: args.install,
        tsbpfVersion: args.tsbpfVersion,
      },
      { prompter: interactive ? await clackPrompter() : undefined },
    );
  },
};

export default command;
