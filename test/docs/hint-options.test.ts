// Every `--option` a message or hint in src/ names must be an option of the command that prints it:
// a hint telling `tsbpf build` users to pass `--btf` (a `tsbpf vmlinux` option) sends them to an
// error. Options are read from the commands' own yargs definitions, strings from the sources.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { expect, it } from 'vitest';
import type { Argv, CommandModule } from 'yargs';
import yargs from 'yargs';
import btfgen from '../../src/commands/btfgen.js';
import build from '../../src/commands/build.js';
import { createOptions } from '../../src/commands/create.js';
import doctor from '../../src/commands/doctor.js';
import gen from '../../src/commands/gen.js';
import trace from '../../src/commands/trace.js';
import vmlinux from '../../src/commands/vmlinux.js';
import { repoRoot } from '../helpers/paths.js';

const modules = { build, gen, vmlinux, btfgen, doctor, trace } as unknown as Record<string, CommandModule>;
const commandNames = ['build', 'gen', 'vmlinux', 'btfgen', 'doctor', 'trace', 'create'] as const;
type Command = (typeof commandNames)[number];

/** Which commands can print a string of each file (or `file --option` for one option of it). */
const reach: Record<string, readonly Command[]> = {
  // --help: every command has it.
  'src/cli.ts': commandNames,
  'src/cli-base.ts': commandNames,
  'src/cli-suggest.ts': commandNames,
  'src/btfgen/': ['btfgen'],
  'src/scaffold/': ['create'],
  'src/build/config.ts': ['build'],
  'src/build/commands.ts': ['gen', 'build'],
  'src/build/commands.ts --event': ['gen'],
  'src/build/commands.ts --jobs': ['build'],
  'src/build/generate.ts': ['gen', 'build'],
  // Thrown only for gen's own arguments: build never passes objects or --type/--event flags.
  'src/build/generate.ts --objfile': ['gen'],
  'src/build/types-only.ts': ['gen', 'build'],
  // parseFieldAs reads gen's flags; build reads "fieldAs" from the config.
  'src/build/field-as.ts': ['gen'],
  // The CommonJS note names gen's --embed beside the config's "embed" for build.
  'src/build/module-format.ts': ['gen', 'build'],
  'src/build/module-format.ts --embed': ['gen'],
  'src/codegen/': ['gen', 'build'],
  'src/toolchain/': ['gen', 'build', 'vmlinux', 'btfgen', 'doctor'],
  'src/doctor/': ['doctor'],
  'src/runtime/': ['trace'],
  'src/commands/create.ts': ['create'],
};

/** Options of other programs that messages quote in full commands (setpriv, clang, ...). */
const foreign = new Set([
  ...['reuid', 'init-groups', 'inh-caps', 'ambient-caps'], // setpriv
  'version', // clang --version, llvm-strip --version
  'single-stream', // xz -dc --single-stream
  'perf-basic-prof', // node --perf-basic-prof (JIT frames in a perf map)
]);

function optionsOf(name: Command): Set<string> {
  const parser: Argv = yargs([]);
  if (name === 'create') createOptions(parser, 'create-tsbpf');
  else {
    const builder = modules[name]?.builder;
    if (typeof builder === 'function') builder(parser);
  }
  const { key, alias } = (
    parser as unknown as { getOptions(): { key: object; alias: Record<string, string[]> } }
  ).getOptions();
  return new Set(['help', 'verbose', ...Object.keys(key), ...Object.values(alias).flat()]);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** Every string literal and template piece of a file (comments are not strings). */
function stringsOf(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteralLike(node)) found.push(node.text);
    else if (ts.isTemplateExpression(node))
      found.push([node.head.text, ...node.templateSpans.map((s) => s.literal.text)].join('…'));
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

it('names only options the printing command has', () => {
  const options = new Map<Command, Set<string>>();
  for (const name of commandNames) options.set(name, optionsOf(name));
  const problems: string[] = [];
  const files = sourceFiles(join(repoRoot, 'src')).filter((f) => !f.endsWith('.d.ts'));
  let checked = 0;
  for (const file of files) {
    const rel = relative(repoRoot, file);
    for (const text of stringsOf(file)) {
      for (const match of text.matchAll(/(?<![\w-])--(?:no-)?([a-z][a-z0-9-]*)/g)) {
        const option = match[1] as string;
        if (foreign.has(option)) continue;
        // A string that quotes a command (`tsbpf vmlinux --btf FILE`) is checked against it.
        const named = [...text.matchAll(/\b(?:tsbpf|create-tsbpf) ?(\w+)?/g)]
          .map((m) => (m[0].startsWith('create-tsbpf') ? 'create' : m[1]))
          .filter((n): n is Command => commandNames.includes(n as Command));
        const commandFile = /^src\/commands\/(\w+)\.ts$/.exec(rel)?.[1] as Command | undefined;
        const reachedBy =
          reach[`${rel} --${option}`] ??
          reach[rel] ??
          Object.entries(reach).find(([prefix]) => prefix.endsWith('/') && rel.startsWith(prefix))?.[1] ??
          (commandFile && commandNames.includes(commandFile) ? [commandFile] : undefined);
        checked++;
        if (named.length > 0) {
          if (!named.some((n) => options.get(n)?.has(option)))
            problems.push(`${rel}: --${option} is not an option of tsbpf ${named.join('/')}: ${text}`);
        } else if (!reachedBy) {
          problems.push(`${rel}: names --${option}; add the file to \`reach\` (which commands print it)`);
        } else {
          const missing = reachedBy.filter((n) => !options.get(n)?.has(option));
          if (missing.length > 0)
            problems.push(`${rel}: --${option} is not an option of tsbpf ${missing.join('/')}: ${text}`);
        }
      }
    }
  }
  expect(checked).toBeGreaterThan(20);
  expect(problems).toEqual([]);
});
