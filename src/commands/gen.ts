// `tsbpf gen <ident> <source.c>... [-- cflags...]` and `tsbpf gen <ident> --objfile x.o`: writes
// `<ident>_<target>.o` and the typed loader `<ident>.ts`. Parsing only; src/build does the work.

import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';

/** A repeatable option: yargs gives one value as a string and several as an array. */
type Repeated = string | string[] | undefined;
const list = (value: Repeated): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

interface GenArgs {
  ident: string;
  sources?: string[];
  objfile?: Repeated;
  outDir?: string;
  type?: Repeated;
  event?: Repeated;
  fieldAs?: Repeated;
  target?: Repeated;
  includeDir?: Repeated;
  embed?: boolean;
  strip?: boolean;
  '--'?: Array<string | number>;
}

const command: CommandModule<object, GenArgs> = {
  command: 'gen <ident> [sources..]',
  describe: 'Write a typed loader from C sources or prebuilt objects',
  builder: (yargs: Argv) =>
    yargs
      .parserConfiguration({ 'populate--': true })
      .positional('ident', {
        type: 'string',
        describe: 'Name of the outputs: <ident>_bpfel.o, <ident>.ts, load<Ident>()',
      })
      .positional('sources', {
        type: 'string',
        describe: 'C files (several are linked into one object)',
      })
      .option('objfile', {
        type: 'string',
        describe: 'A prebuilt eBPF object instead of sources (repeatable; one per byte order)',
      })
      .option('out-dir', { alias: 'o', type: 'string', describe: 'Folder for the outputs (default: .)' })
      .option('type', {
        type: 'string',
        describe: 'Another C type to emit (repeatable): event, struct event',
      })
      .option('event', {
        type: 'string',
        describe: 'Bind a ring buffer or perf array to its event type: MAP=TYPE (repeatable)',
      })
      .option('field-as', {
        type: 'string',
        describe:
          'How a field decodes: a char[N] TYPE.FIELD=string (up to the first NUL, the default), strings (split on NUL) or bytes; a 64-bit integer TYPE.FIELD=number (exact up to 2^53 - 1, not a bigint) (repeatable)',
      })
      .option('target', {
        type: 'string',
        describe: 'Targets, comma-separated: bpfel, bpfeb, amd64, arm64, ... (default: bpfel,bpfeb)',
      })
      .option('include-dir', {
        alias: 'I',
        type: 'string',
        describe: 'Header folder (repeatable)',
      })
      .option('embed', {
        type: 'boolean',
        describe: 'Inline the objects in the TS file (base64) instead of writing them',
      })
      .option('strip', {
        type: 'boolean',
        default: true,
        describe: 'Strip DWARF from the objects (--no-strip keeps it)',
      })
      .example('$0 gen probe probe.c', 'probe_bpfel.o, probe_bpfeb.o and probe.ts from probe.c')
      .example(
        '$0 gen probe probe.c --event events=event -- -DDEBUG',
        'decode map events as struct event; extra cflags',
      )
      .example(
        '$0 gen probe --objfile probe_bpfel.o',
        'a loader for an object compiled elsewhere',
      ) as Argv<GenArgs>,
  handler: async (args: ArgumentsCamelCase<GenArgs>) => {
    const { runGen } = await import('../build/commands.js');
    await runGen({
      ident: args.ident,
      sources: args.sources ?? [],
      objfiles: list(args.objfile),
      outDir: args.outDir,
      types: list(args.type),
      events: list(args.event),
      fieldAs: list(args.fieldAs),
      targets: list(args.target),
      includeDirs: list(args.includeDir),
      embed: args.embed ?? false,
      strip: args.strip ?? true,
      cflags: (args['--'] ?? []).map(String),
    });
  },
};

export default command;
