// create-tsbpf from arguments to a written project. Missing arguments are asked for when a
// Prompter is given (a terminal) and are errors otherwise; either way the same checks run, in
// the same order, so `create-tsbpf my-probe --type xdp` and answering the prompts end alike.

import { existsSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import { execa } from 'execa';
import { TsbpfError, UsageError } from '../errors.js';
import { peerRange } from '../version.js';
import { nextSteps } from './next-steps.js';
import { detectPackageManager, installCommand, type PackageManager } from './package-manager.js';
import { checkPackageName } from './package-name.js';
import type { Prompter } from './prompts.js';
import { collectTemplateFiles, readPartials, renderFiles } from './render.js';
import { checkTargetDir, inspectTargetDir, resolveTargetDir } from './target-dir.js';
import {
  buildTargets,
  findTemplate,
  type TemplateInfo,
  templates,
  templatesRoot,
  templateTypes,
} from './templates.js';
import { defaultTsbpfSpec } from './tsbpf-spec.js';
import { executableModes, writeProjectFiles } from './write.js';

export interface CreateArguments {
  dir?: string | undefined;
  type?: string | undefined;
  /** The package name (default: the directory's name). */
  name?: string | undefined;
  force?: boolean | undefined;
  install?: boolean | undefined;
  /** An npm spec for the tsbpf dependency: a version range, a tag, `file:...` or a tarball. */
  tsbpfVersion?: string | undefined;
}

export interface CreateContext {
  cwd?: string;
  /** Present when stdin and stdout are a terminal. */
  prompter?: Prompter | undefined;
  userAgent?: string | undefined;
  /** Where progress and the next steps go. */
  log?: (line: string) => void;
  /** Overrides templates/ (tests). */
  templatesDir?: string;
}

export interface ResolvedOptions {
  dir: string;
  template: TemplateInfo;
  name: string;
  force: boolean;
  install: boolean;
  tsbpfVersion: string;
}

export interface CreateResult extends ResolvedOptions {
  files: string[];
  packageManager: PackageManager;
  nextSteps: string[];
}

const defaultDir = 'tsbpf-project';

/** Fills in and checks every option: prompts for missing ones, or fails naming the flag. */
export async function resolveOptions(
  args: CreateArguments,
  context: CreateContext = {},
): Promise<ResolvedOptions> {
  const cwd = context.cwd ?? process.cwd();
  const prompter = context.prompter;

  let dirArg = args.dir;
  if (dirArg === undefined || dirArg.trim() === '') {
    if (prompter === undefined) {
      throw new UsageError('name the project directory', {
        hint: `create-tsbpf <dir> --type <${templateTypes.join('|')}> (. for this directory)`,
      });
    }
    dirArg = await prompter.text({
      message: 'Project directory',
      placeholder: defaultDir,
      defaultValue: defaultDir,
    });
  }
  const dir = resolveTargetDir(dirArg, cwd);

  let template: TemplateInfo;
  if (args.type !== undefined) {
    template = findTemplate(args.type);
  } else if (prompter !== undefined) {
    const type = await prompter.select({
      message: 'Program type',
      options: templates.map((t) => ({ value: t.type, label: t.type, hint: t.description })),
    });
    template = findTemplate(type);
  } else {
    throw new UsageError(`choose a template with --type; valid types: ${templateTypes.join(', ')}`);
  }
  // Fail before writing anything if the template cannot be built on this machine.
  buildTargets(template);

  let name = args.name ?? basename(dir);
  const nameCheck = checkPackageName(name);
  if (!nameCheck.valid) {
    if (prompter === undefined) {
      throw new UsageError(`"${name}" is not a valid npm package name: ${nameCheck.problems.join('; ')}`, {
        hint: `use --name ${nameCheck.suggestion}${args.name === undefined ? ` (or name the directory ${nameCheck.suggestion})` : ''}`,
      });
    }
    name = await prompter.text({
      message: 'Package name',
      initialValue: nameCheck.suggestion,
      validate: (value) => {
        const check = checkPackageName(value);
        return check.valid ? undefined : `${check.problems.join('; ')} (try ${check.suggestion})`;
      },
    });
  }

  let force = args.force ?? false;
  const state = inspectTargetDir(dir);
  if (state.entries.length > 0 && !force && prompter !== undefined) {
    force = await prompter.confirm({
      message: `${dir} is not empty. Write the template into it? Files with the same names are replaced; nothing is deleted.`,
      initialValue: false,
    });
    if (!force)
      throw new UsageError(`${dir} is not empty; nothing was written`, { hint: 'choose a new directory' });
  }
  checkTargetDir(state, force);

  // Given, it wins; else one that installs from where this tsbpf came (the registry or this machine).
  const tsbpfVersion = args.tsbpfVersion ?? defaultTsbpfSpec();
  if (tsbpfVersion.trim() === '')
    throw new UsageError('--tsbpf-version is empty', {
      hint: 'pass an npm spec: 0.1.0, ^0.1.0, latest, file:../tsbpf-0.1.0.tgz',
    });

  return { dir, template, name, force, install: args.install ?? false, tsbpfVersion: tsbpfVersion.trim() };
}

/** The values the `.hbs` files use. */
export function templateData(options: ResolvedOptions): Record<string, unknown> {
  const targets = buildTargets(options.template);
  return {
    name: options.name,
    type: options.template.type,
    description: options.template.description,
    ident: options.template.ident,
    tsbpfVersion: options.tsbpfVersion,
    // A JSON fragment for tsbpf.config.json: `"targets": [...]` only where the host's matters.
    targets: targets === undefined ? '' : `,\n      "targets": ${JSON.stringify(targets)}`,
    targetNote: targets === undefined ? '' : targets.join(', '),
    // More `"name": "range"` lines for package.json's dependencies, after tsbpf's: the peers the
    // template uses, in the ranges tsbpf declares (those its tests run against).
    dependencies: (options.template.peers ?? [])
      .map((name) => `,\n    ${JSON.stringify(name)}: ${JSON.stringify(peerRange(name))}`)
      .join(''),
    // `"events": {...}` binds event maps to their C struct, so their readers decode by default.
    events:
      options.template.events === undefined
        ? ''
        : `,\n      "events": { ${Object.entries(options.template.events)
            .map(([map, type]) => `${JSON.stringify(map)}: ${JSON.stringify(type)}`)
            .join(', ')} }`,
  };
}

/** Creates the project; returns what was written and the next steps (already logged). */
export async function createProject(
  args: CreateArguments,
  context: CreateContext = {},
): Promise<CreateResult> {
  const cwd = context.cwd ?? process.cwd();
  const log = context.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const options = await resolveOptions(args, context);
  const root = context.templatesDir ?? templatesRoot();

  const templateFiles = collectTemplateFiles(root, options.template.type);
  const files = renderFiles(templateFiles, templateData(options), readPartials(root, options.template.type));
  const dirExisted = existsSync(options.dir);
  let written: string[];
  try {
    written = writeProjectFiles(options.dir, files, {
      force: options.force,
      modes: executableModes(templateFiles),
    });
  } catch (error) {
    // A directory this run made holds nothing of the user's: take it away again.
    if (!dirExisted) rmSync(options.dir, { recursive: true, force: true });
    throw error;
  }
  log(
    `Created ${options.name} (${options.template.type}: ${options.template.description}) in ${options.dir}`,
  );

  const pm = detectPackageManager(context.userAgent ?? process.env.npm_config_user_agent);
  if (options.install) {
    const [file, argv] = installCommand(pm);
    log(`Installing dependencies with ${file} ...`);
    try {
      await execa(file, argv, { cwd: options.dir, stdio: 'inherit' });
    } catch (error) {
      throw new TsbpfError(`${file} ${argv.join(' ')} failed in ${options.dir}`, {
        cause: error,
        hint: `the project is written; fix the problem above and run ${file} install there`,
      });
    }
  }
  const steps = nextSteps({ dir: options.dir, cwd, pm, installed: options.install });
  log('\nNext steps:');
  for (const step of steps) log(`  ${step}`);
  return { ...options, files: written, packageManager: pm, nextSteps: steps };
}
