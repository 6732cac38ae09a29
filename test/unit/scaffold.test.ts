// The scaffolder's logic, without the CLI: option resolution (flags and prompts), package
// names, template files and rendering, target directory checks, path containment, writes.

import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/build/config.js';
import { UsageError } from '../../src/errors.js';
import { createProject, resolveOptions } from '../../src/scaffold/create-project.js';
import { nextSteps } from '../../src/scaffold/next-steps.js';
import { detectPackageManager, runScript } from '../../src/scaffold/package-manager.js';
import { checkPackageName, suggestPackageName } from '../../src/scaffold/package-name.js';
import type { Prompter } from '../../src/scaffold/prompts.js';
import { collectTemplateFiles, renderFiles, targetName } from '../../src/scaffold/render.js';
import {
  checkTargetDir,
  containedPath,
  inspectTargetDir,
  resolveTargetDir,
} from '../../src/scaffold/target-dir.js';
import { buildTargets, findTemplate, templatesRoot, templateTypes } from '../../src/scaffold/templates.js';
import { writeProjectFiles } from '../../src/scaffold/write.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

/** A Prompter that answers from a script and records the questions. */
function scriptedPrompter(answers: Array<string | boolean>): Prompter & { asked: string[] } {
  const asked: string[] = [];
  const next = (message: string) => {
    asked.push(message);
    if (answers.length === 0) throw new Error(`unexpected prompt: ${message}`);
    return answers.shift()!;
  };
  return {
    asked,
    text: async (o) => {
      const answer = String(next(o.message)) || (o.defaultValue ?? '');
      const problem = o.validate?.(answer);
      if (problem !== undefined) throw new Error(`answer rejected: ${problem}`);
      return answer;
    },
    select: async (o) => {
      const answer = String(next(o.message));
      if (!o.options.some((option) => option.value === answer)) throw new Error(`not an option: ${answer}`);
      return answer as never;
    },
    confirm: async (o) => Boolean(next(o.message)),
  };
}

describe('package names', () => {
  it.each(['my-probe', 'probe2', '@acme/probe', 'a.b_c-d'])('accepts %s', (name) => {
    expect(checkPackageName(name)).toEqual({ valid: true });
  });

  it.each([
    ['My Probe', 'my-probe'],
    ['.hidden', 'hidden'],
    ['_private', 'private'],
    ['fs', 'fs-probe'],
    ['node_modules', 'node_modules-probe'],
    ['@Acme/My Probe', '@acme/my-probe'],
    ['  ', 'tsbpf-project'],
    ['probe!', 'probe'],
  ])('rejects %j and suggests %j', (name, suggestion) => {
    const check = checkPackageName(name);
    expect(check.valid).toBe(false);
    if (!check.valid) {
      expect(check.problems.length).toBeGreaterThan(0);
      expect(check.suggestion).toBe(suggestion);
    }
  });

  it('always suggests a valid name', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (name) => {
        expect(checkPackageName(suggestPackageName(name))).toEqual({ valid: true });
      }),
      { numRuns: 2000 },
    );
  });
});

describe('templates', () => {
  it('lists the six program types, each with a folder', () => {
    expect(templateTypes).toEqual(['uretprobe', 'uprobe', 'kprobe', 'tracepoint', 'xdp', 'tc', 'exporter']);
    for (const type of templateTypes) expect(existsSync(join(templatesRoot(), type))).toBe(true);
  });

  it('rejects an unknown type, listing the valid ones and the closest', () => {
    expect(() => findTemplate('xpd')).toThrow(UsageError);
    expect(() => findTemplate('xpd')).toThrow(
      /valid types: uretprobe, uprobe, kprobe, tracepoint, xdp, tc, exporter/,
    );
    try {
      findTemplate('kprob');
    } catch (error) {
      expect((error as UsageError).hint).toBe('did you mean --type kprobe?');
    }
  });

  it('builds register-reading programs for the host architecture only', () => {
    expect(buildTargets(findTemplate('uretprobe'), 'x64')).toEqual(['amd64']);
    expect(buildTargets(findTemplate('kprobe'), 'arm64')).toEqual(['arm64']);
    expect(buildTargets(findTemplate('tracepoint'), 'x64')).toBeUndefined();
    expect(() => buildTargets(findTemplate('uprobe'), 'sparc')).toThrow(/no target for "sparc"/);
  });

  it('maps template names to project names', () => {
    expect(targetName('_gitignore')).toEqual({ target: '.gitignore', render: false });
    expect(targetName('package.json.hbs')).toEqual({ target: 'package.json', render: true });
    expect(targetName(join('src', 'main.ts'))).toEqual({ target: 'src/main.ts', render: false });
    expect(targetName(join('src', '_env.hbs'))).toEqual({ target: 'src/.env', render: true });
    expect(targetName(join('_github', 'workflows', 'ci.yml'))).toEqual({
      target: '.github/workflows/ci.yml',
      render: false,
    });
  });

  it('lays a template over base; its own files win, its README partial is not copied', () => {
    const root = tempDir();
    mkdirSync(join(root, 'base', 'src'), { recursive: true });
    mkdirSync(join(root, 'demo', 'src'), { recursive: true });
    writeFileSync(join(root, 'base', 'shared.txt'), 'base');
    writeFileSync(join(root, 'base', 'package.json.hbs'), 'base');
    writeFileSync(join(root, 'demo', 'package.json.hbs'), 'demo');
    writeFileSync(join(root, 'demo', 'src', 'main.ts'), 'demo');
    writeFileSync(join(root, 'demo', 'README.program.md'), 'partial');
    const files = collectTemplateFiles(root, 'demo');
    expect(files.map((f) => [f.target, f.source.slice(root.length + 1)])).toEqual([
      ['package.json', join('demo', 'package.json.hbs')],
      ['shared.txt', join('base', 'shared.txt')],
      ['src/main.ts', join('demo', 'src', 'main.ts')],
    ]);
  });

  it('renders .hbs files strictly and copies the others byte for byte', () => {
    const root = tempDir();
    writeFileSync(join(root, 'a.json.hbs'), '{ "name": "{{json name}}", "t": "{{pascal ident}}" }');
    writeFileSync(join(root, 'b.ts'), 'const x = `{{not rendered}}`;');
    writeFileSync(join(root, 'c.md.hbs'), '{{missing}}');
    const [a, b] = renderFiles(
      [
        { source: join(root, 'a.json.hbs'), target: 'a.json', render: true },
        { source: join(root, 'b.ts'), target: 'b.ts', render: false },
      ],
      { name: 'say "hi"\\', ident: 'xdp_filter' },
    );
    expect(JSON.parse(new TextDecoder().decode(a!.contents))).toEqual({ name: 'say "hi"\\', t: 'XdpFilter' });
    expect(new TextDecoder().decode(b!.contents)).toBe('const x = `{{not rendered}}`;');
    expect(() => renderFiles([{ source: join(root, 'c.md.hbs'), target: 'c.md', render: true }], {})).toThrow(
      /"missing" not defined/,
    );
  });
});

describe('the target directory', () => {
  it('resolves . to the working directory', () => {
    expect(resolveTargetDir('.', '/home/me/work')).toBe('/home/me/work');
    expect(resolveTargetDir('probe', '/home/me')).toBe('/home/me/probe');
    expect(() => resolveTargetDir('  ')).toThrow(UsageError);
  });

  it('accepts a missing, empty or git-only directory, and refuses other files unless forced', () => {
    const root = tempDir();
    expect(inspectTargetDir(join(root, 'new'))).toEqual({
      path: join(root, 'new'),
      exists: false,
      entries: [],
    });
    mkdirSync(join(root, '.git'));
    const gitOnly = inspectTargetDir(root);
    expect(() => checkTargetDir(gitOnly, false)).not.toThrow();
    writeFileSync(join(root, 'notes.txt'), 'mine');
    const used = inspectTargetDir(root);
    expect(() => checkTargetDir(used, false)).toThrow(/is not empty \(notes\.txt\)/);
    expect(() => checkTargetDir(used, true)).not.toThrow();
    expect(() => inspectTargetDir(join(root, 'notes.txt'))).toThrow(/is not a directory/);
  });

  it('keeps every write inside the directory, also through symlinks', () => {
    const root = tempDir();
    const outside = tempDir();
    expect(containedPath(root, 'src/main.ts')).toBe(join(root, 'src', 'main.ts'));
    expect(existsSync(join(root, 'src'))).toBe(true);
    expect(() => containedPath(root, '../escape.ts')).toThrow(/outside/);
    expect(() => containedPath(root, 'src/../../escape.ts')).toThrow(/outside/);
    expect(() => containedPath(root, '/etc/passwd')).toThrow(/outside/);
    expect(() => containedPath(root, '.')).toThrow(/outside/);
    symlinkSync(outside, join(root, 'linked'));
    expect(() => containedPath(root, 'linked/file.ts')).toThrow(/symlink/);
    symlinkSync(join(outside, 'target.ts'), join(root, 'file.ts'));
    expect(() => containedPath(root, 'file.ts')).toThrow(/symlink/);
    expect(readdirSync(outside)).toEqual([]);
  });

  it('never replaces a file without force, and leaves no temporary files', () => {
    const root = tempDir();
    writeFileSync(join(root, 'main.ts'), 'mine');
    const files = [
      { path: 'a.txt', contents: new TextEncoder().encode('a') },
      { path: 'main.ts', contents: new TextEncoder().encode('template') },
    ];
    expect(() => writeProjectFiles(root, files, { force: false })).toThrow(
      /already exists; not replacing it/,
    );
    expect(readFileSync(join(root, 'main.ts'), 'utf8')).toBe('mine');
    expect(writeProjectFiles(root, files, { force: true })).toEqual(['a.txt', 'main.ts']);
    expect(readFileSync(join(root, 'main.ts'), 'utf8')).toBe('template');
    expect(readdirSync(root).sort()).toEqual(['a.txt', 'main.ts']);
  });

  it('takes back the files it created when a later write fails, and keeps the user files', () => {
    const root = tempDir();
    writeFileSync(join(root, 'mine.txt'), 'mine');
    const files = [
      { path: 'new.txt', contents: new TextEncoder().encode('new') },
      { path: 'mine.txt', contents: new TextEncoder().encode('template') },
    ];
    expect(() => writeProjectFiles(root, files, { force: false })).toThrow(/mine\.txt already exists/);
    expect(readdirSync(root)).toEqual(['mine.txt']);
    expect(readFileSync(join(root, 'mine.txt'), 'utf8')).toBe('mine');
  });
});

describe('options: flags and prompts', () => {
  it('needs every missing argument as a flag when there is no terminal', async () => {
    const cwd = tempDir();
    await expect(resolveOptions({ type: 'xdp' }, { cwd })).rejects.toThrow(/name the project directory/);
    await expect(resolveOptions({ dir: 'p' }, { cwd })).rejects.toThrow(
      /choose a template with --type; valid types: uretprobe/,
    );
    await expect(resolveOptions({ dir: 'My Probe', type: 'xdp' }, { cwd })).rejects.toMatchObject({
      hint: 'use --name my-probe (or name the directory my-probe)',
    });
    await expect(resolveOptions({ dir: 'p', type: 'xdp', name: 'Bad' }, { cwd })).rejects.toMatchObject({
      hint: 'use --name bad',
    });
  });

  it('takes flags as given, with the defaults filled in', async () => {
    const cwd = join(tempDir(), 'my-probe');
    mkdirSync(cwd);
    const options = await resolveOptions({ dir: '.', type: 'tc', tsbpfVersion: 'file:../t.tgz' }, { cwd });
    expect(options).toMatchObject({ dir: cwd, name: 'my-probe', force: false, install: false });
    expect(options.template.type).toBe('tc');
    expect(options.tsbpfVersion).toBe('file:../t.tgz');
    const defaults = await resolveOptions({ dir: 'x', type: 'tc' }, { cwd });
    // Run from this checkout: the checkout itself (src/scaffold/tsbpf-spec.ts).
    expect(defaults.tsbpfVersion).toBe(`file:${realpathSync(repoRoot)}`);
  });

  it('asks for what is missing, through the same checks', async () => {
    const cwd = tempDir();
    const prompter = scriptedPrompter(['Fancy Probe', 'kprobe', 'fancy-probe']);
    const options = await resolveOptions({}, { cwd, prompter });
    expect(prompter.asked).toEqual(['Project directory', 'Program type', 'Package name']);
    expect(options).toMatchObject({ dir: join(cwd, 'Fancy Probe'), name: 'fancy-probe' });
    expect(options.template.type).toBe('kprobe');
  });

  it('does not ask when the flags are complete, and an unknown --type still fails', async () => {
    const cwd = tempDir();
    const prompter = scriptedPrompter([]);
    await resolveOptions({ dir: 'p', type: 'xdp' }, { cwd, prompter });
    expect(prompter.asked).toEqual([]);
    await expect(resolveOptions({ dir: 'p', type: 'nope' }, { cwd, prompter })).rejects.toThrow(
      /unknown template type "nope"/,
    );
  });

  it('asks before writing into a non-empty directory, and stops on no', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'keep.txt'), 'mine');
    await expect(
      resolveOptions({ dir: '.', type: 'xdp', name: 'p' }, { cwd, prompter: scriptedPrompter([false]) }),
    ).rejects.toThrow(/not empty; nothing was written/);
    const yes = await resolveOptions(
      { dir: '.', type: 'xdp', name: 'p' },
      { cwd, prompter: scriptedPrompter([true]) },
    );
    expect(yes.force).toBe(true);
  });
});

describe('package managers and next steps', () => {
  it('detects the package manager from npm_config_user_agent', () => {
    expect(detectPackageManager('pnpm/9.1.0 npm/? node/v20.19.0 linux x64')).toEqual({
      name: 'pnpm',
      version: '9.1.0',
    });
    expect(detectPackageManager('yarn/1.22.22 npm/? node/v20.19.0 linux x64').name).toBe('yarn');
    expect(detectPackageManager('npm/11.0.0 node/v20.19.0 linux x64').name).toBe('npm');
    expect(detectPackageManager('')).toEqual({ name: 'npm', version: undefined });
    expect(detectPackageManager('something/1.0').name).toBe('npm');
    expect(runScript({ name: 'pnpm', version: undefined }, 'build')).toBe('pnpm build');
    expect(runScript({ name: 'npm', version: undefined }, 'build')).toBe('npm run build');
  });

  it('prints a cd only when needed, and quotes odd paths', () => {
    const npm = { name: 'npm' as const, version: undefined };
    expect(nextSteps({ dir: '/w/p', cwd: '/w/p', pm: npm, installed: true })[0]).toMatch(/^npm run build /);
    expect(nextSteps({ dir: '/w/p', cwd: '/w', pm: npm, installed: false }).slice(0, 2)).toEqual([
      'cd p',
      'npm install',
    ]);
    expect(nextSteps({ dir: '/w/my probe', cwd: '/w', pm: npm, installed: true })[0]).toBe("cd 'my probe'");
    expect(nextSteps({ dir: '/elsewhere/p', cwd: '/w', pm: npm, installed: true })[0]).toBe(
      'cd /elsewhere/p',
    );
  });
});

describe('every template', () => {
  it.each(templateTypes)('%s renders to a complete project with a valid config', async (type) => {
    const cwd = tempDir();
    const lines: string[] = [];
    const result = await createProject(
      { dir: 'p', type, tsbpfVersion: 'file:/tmp/tsbpf.tgz' },
      { cwd, log: (line) => lines.push(line) },
    );
    const dir = join(cwd, 'p');
    const ident = findTemplate(type).ident;
    expect(result.files).toEqual(
      expect.arrayContaining([
        '.gitignore',
        'README.md',
        'package.json',
        'tsbpf.config.json',
        'tsconfig.json',
        'vitest.config.ts',
        'src/main.ts',
        `src/${ident}.bpf.c`,
        `test/${ident}.test.ts`,
      ]),
    );
    for (const file of result.files) {
      const text = readFileSync(join(dir, file), 'utf8');
      expect(text, file).not.toMatch(/\{\{/); // no handlebars left in what the user gets
    }
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(pkg).toMatchObject({ name: 'p', type: 'module', dependencies: { tsbpf: 'file:/tmp/tsbpf.tgz' } });
    // tsbpf's optional peers a template uses, in the ranges tsbpf's own package.json declares.
    const own = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    const peers = findTemplate(type).peers ?? [];
    expect(pkg.dependencies).toEqual({
      tsbpf: 'file:/tmp/tsbpf.tgz',
      ...Object.fromEntries(peers.map((name) => [name, own.peerDependencies[name]])),
    });
    if (type === 'exporter')
      expect(pkg.dependencies['prom-client']).toBe(own.peerDependencies['prom-client']);
    expect(Object.keys(pkg.scripts)).toEqual(expect.arrayContaining(['build', 'start', 'test']));
    const config = parseConfig(
      JSON.parse(readFileSync(join(dir, 'tsbpf.config.json'), 'utf8')),
      join(dir, 'tsbpf.config.json'),
    );
    expect(config.programs.map((p) => [p.ident, p.sources])).toEqual([
      [ident, [join(dir, 'src', `${ident}.bpf.c`)]],
    ]);
    expect(config.vmlinux).toMatchObject({ dir: join(dir, 'src'), generate: true });
    const main = readFileSync(join(dir, 'src', 'main.ts'), 'utf8');
    expect(main).toContain(`from './${ident}.js'`);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toContain('## The program');
    expect(lines.join('\n')).toContain('Next steps:');
  });
});
