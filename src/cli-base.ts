// What both bins (tsbpf, create-tsbpf) share: version, --verbose, --help, strict parsing, and
// argument mistakes raised as UsageError so they end as one line with a hint (src/report.ts).

import type { Argv } from 'yargs';
import yargs from 'yargs';
import { asFlag, closest, unknownOptionsMessage } from './cli-suggest.js';
import { UsageError } from './errors.js';
import { setVerbose } from './output.js';
import { packageVersion } from './version.js';

// yargs' own wording for the mistakes we reword, fixed whatever LANG says so they can be matched.
const unknownArguments = { one: 'Unknown argument: %s', other: 'Unknown arguments: %s' };
const didYouMean = 'Did you mean %s?';

/**
 * The parser both bins start from. `commands` names the root's commands (tsbpf's), so a mistyped
 * one is told apart from a stray argument.
 */
export function baseParser(argv: string[], scriptName: string, commands: readonly string[] = []): Argv {
  stopQuietlyOnClosedPipe();
  const words = argv.filter((arg) => !arg.startsWith('-'));
  const command = commands.includes(words[0] ?? '') ? words[0] : undefined;
  const invocation = command ? `${scriptName} ${command}` : scriptName;
  const parser: Argv = yargs(argv)
    .scriptName(scriptName)
    .version(packageVersion())
    .updateStrings({ 'Unknown argument: %s': unknownArguments, [didYouMean]: didYouMean } as never)
    .option('verbose', {
      type: 'boolean',
      describe: 'Show details and stack traces (also DEBUG=tsbpf)',
      global: true,
    })
    .middleware((args) => {
      setVerbose(Boolean(args.verbose));
      rejectNonNumbers(args, argv, parser, invocation);
    })
    .strict()
    .help()
    .alias('help', 'h')
    .wrap(Math.min(110, process.stdout.columns || 80))
    .fail((message, error) => {
      if (error) throw error;
      // yargs checks required options before unknown ones: `--objet x` is reported as the
      // missing --object unless the typo is named first.
      const typos = unknownTyped(argv, optionNames(parser));
      if (typos.length > 0 && (command || words.length === 0))
        message = `Unknown argument: ${typos.join(', ')}`;
      throw usageError(message ?? 'invalid arguments', {
        argv,
        commands: command || commands.length === 0 ? [] : commands,
        knownOptions: optionNames(parser),
        invocation,
      });
    });
  return parser;
}

interface FailContext {
  argv: string[];
  /** The root's commands, when no command was recognised (empty otherwise). */
  commands: readonly string[];
  knownOptions: string[];
  /** `tsbpf build`: what `--help` follows to list the options in play. */
  invocation: string;
}

/** yargs' failure message as one line that names what was typed, and a hint. */
function usageError(message: string, context: FailContext): UsageError {
  const help = `run ${context.invocation} --help to see the options`;
  const typo = /^Did you mean (.+)\?$/.exec(message);
  if (typo) {
    const typed = context.argv.find((arg) => !arg.startsWith('-')) ?? '';
    return new UsageError(`unknown command ${typed}; did you mean ${typo[1]}?`, {
      hint: `${context.invocation} --help lists the commands`,
    });
  }
  const unknown = /^Unknown arguments?: (.+)$/.exec(message);
  if (unknown) {
    const names = (unknown[1] ?? '').split(', ');
    const typedOptions = new Set(
      context.argv
        .filter((arg) => arg.startsWith('-'))
        .map((arg) => arg.replace(/^-+(no-)?/, '').split('=')[0]),
    );
    // yargs lists `--out-dirr` twice (out-dirr, outDirr): keep the spelling that was typed.
    const options = names.filter((name) => typedOptions.has(name));
    const words = names.filter((name) => !typedOptions.has(name) && !typedOptions.has(kebab(name)));
    if (words.length > 0 && context.commands.length > 0) {
      const typed = words.find((word) => context.argv.includes(word)) ?? words[0] ?? '';
      const guess = closest(typed, context.commands);
      return new UsageError(`unknown command ${typed}${guess ? `; did you mean ${guess}?` : ''}`, {
        hint: `${context.invocation} --help lists the commands`,
      });
    }
    const parts = [
      ...(options.length > 0 ? [unknownOptionsMessage(options, context.knownOptions)] : []),
      ...(words.length > 0 ? [`unexpected argument${words.length > 1 ? 's' : ''} ${words.join(' ')}`] : []),
    ];
    return new UsageError(parts.join('; '), { hint: help });
  }
  // yargs' wording for a missing positional or required option, said as the user typed them.
  const tooFew = /^Not enough non-option arguments: got (\d+), need at least (\d+)$/.exec(message);
  if (tooFew) {
    const missing = Number(tooFew[2]) - Number(tooFew[1]);
    return new UsageError(`${context.invocation} needs ${missing} more argument${missing > 1 ? 's' : ''}`, {
      hint: `run ${context.invocation} --help to see its usage`,
    });
  }
  const exclusive = /^Arguments (\S+) and (\S+) are mutually exclusive$/.exec(message);
  if (exclusive) {
    const [a = '', b = ''] = [exclusive[1], exclusive[2]].map((name) => asFlag(name ?? ''));
    return new UsageError(`${a} and ${b} cannot be used together`, { hint: help });
  }
  const required = /^Missing required arguments?: (.+)$/.exec(message);
  if (required) {
    const names = (required[1] ?? '').split(', ').map(asFlag);
    return new UsageError(`${context.invocation} needs ${names.join(' and ')}`, { hint: help });
  }
  return new UsageError(message, { hint: help });
}

/** The option names typed before `--` (as typed, without dashes or `no-`). */
function typedOptions(argv: string[]): string[] {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end))
    .filter((arg) => /^--?[a-zA-Z]/.test(arg))
    .flatMap((arg) =>
      arg.startsWith('--') ? [arg.slice(2).replace(/^no-/, '').split('=')[0] ?? ''] : [...arg.slice(1)],
    );
}

/** Typed options the command does not have. */
function unknownTyped(argv: string[], known: string[]): string[] {
  const names = new Set([...known, ...known.map(kebab)]);
  return [...new Set(typedOptions(argv).filter((name) => !names.has(name) && !names.has(kebab(name))))];
}

/** A number option given something else (`-j abc`) is named with what was typed, not as NaN. */
function rejectNonNumbers(
  args: Record<string, unknown>,
  argv: string[],
  parser: Argv,
  invocation: string,
): void {
  const { alias } = options(parser);
  for (const [key, value] of Object.entries(args)) {
    if (typeof value !== 'number' || !Number.isNaN(value) || /[A-Z]/.test(key)) continue;
    const spellings = [key, ...(alias[key] ?? [])].map((name) =>
      name.length === 1 ? `-${name}` : `--${name}`,
    );
    const at = argv.findIndex((arg) => spellings.some((s) => arg === s || arg.startsWith(`${s}=`)));
    const typed = at < 0 ? '' : (argv[at]?.split('=')[1] ?? argv[at + 1] ?? '');
    const flag = argv[at]?.split('=')[0] ?? `--${key}`;
    throw new UsageError(`${flag} ${typed}: expected a number`, {
      hint: `run ${invocation} --help to see the options`,
    });
  }
}

const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The options (and aliases) the parser knows in the command being run, as they are typed. */
function optionNames(parser: Argv): string[] {
  const { key, alias } = options(parser);
  const names = [...Object.keys(key), ...Object.values(alias).flat()];
  // yargs adds the camelCase twin of every kebab-case option: suggest the spelling --help shows.
  return [...new Set(names)].filter((name) => !/[A-Z]/.test(name) && name !== '$0');
}

/** The options yargs knows now (in a command, the command's); getOptions() is missing from @types/yargs. */
function options(parser: Argv): { key: Record<string, unknown>; alias: Record<string, string[]> } {
  return (
    parser as unknown as {
      getOptions(): { key: Record<string, unknown>; alias: Record<string, string[]> };
    }
  ).getOptions();
}

/**
 * `tsbpf … | head -1` closes stdout once the reader has what it wanted; writing on is EPIPE,
 * which is not an error of anyone's: stop as other Unix tools do (exit status 0, nothing printed).
 */
function stopQuietlyOnClosedPipe(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}
