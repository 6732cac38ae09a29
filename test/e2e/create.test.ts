// create-tsbpf through its real entry points (dist/create.js and `tsbpf create`): bad inputs
// fail with exit 1 and a clear message and leave the disk as it was; the prompts work on a
// terminal (a pty from script(1)); flags alone work without one.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cliPath, repoRoot, tempDir } from '../helpers/paths.js';

const createPath = join(repoRoot, 'dist', 'create.js');

function run(args: string[], cwd: string, entry = createPath) {
  const result = spawnSync(process.execPath, [entry, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', npm_config_user_agent: '' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Every file under dir with its contents, to compare a directory before and after. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      out[path.slice(dir.length)] = readFileSync(path, 'utf8');
    }
  }
  return out;
}

describe('bad inputs', () => {
  it('an unknown --type exits 1, lists the valid types, and writes nothing', () => {
    const cwd = tempDir();
    const result = run(['probe', '--type', 'kprobes'], cwd);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'unknown template type "kprobes"; valid types: uretprobe, uprobe, kprobe, tracepoint, xdp, tc, exporter',
    );
    expect(result.stderr).toContain('did you mean --type kprobe?');
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('an invalid package name exits 1 with a corrected one', () => {
    const cwd = tempDir();
    const result = run(['My Probe', '--type', 'xdp'], cwd);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('"My Probe" is not a valid npm package name');
    expect(result.stderr).toContain('hint: use --name my-probe (or name the directory my-probe)');
    expect(readdirSync(cwd)).toEqual([]);

    const named = run(['My Probe', '--type', 'xdp', '--name', 'my-probe'], cwd);
    expect(named.code).toBe(0);
    expect(JSON.parse(readFileSync(join(cwd, 'My Probe', 'package.json'), 'utf8')).name).toBe('my-probe');
  });

  it('a non-empty directory is refused and left exactly as it was; --force writes without deleting', () => {
    const cwd = tempDir();
    const dir = join(cwd, 'probe');
    mkdirSync(join(dir, 'src'), { recursive: true });
    writeFileSync(join(dir, 'notes.txt'), 'mine\n');
    writeFileSync(join(dir, 'src', 'main.ts'), '// my own main\n');
    const before = snapshot(dir);

    const result = run(['probe', '--type', 'tracepoint'], cwd);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/probe is not empty \(notes\.txt, src\)/);
    expect(result.stderr).toContain('--force');
    expect(snapshot(dir)).toEqual(before);

    const forced = run(['probe', '--type', 'tracepoint', '--force'], cwd);
    expect(forced.code).toBe(0);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine\n');
    expect(readFileSync(join(dir, 'src', 'main.ts'), 'utf8')).toContain('loadExecsnoop');
  });

  it('without a terminal, missing arguments are errors that name the flag', () => {
    const cwd = tempDir();
    const noDir = run(['--type', 'xdp'], cwd);
    expect(noDir.code).toBe(1);
    expect(noDir.stderr).toContain('name the project directory');
    const noType = run(['probe'], cwd);
    expect(noType.code).toBe(1);
    expect(noType.stderr).toContain(
      'choose a template with --type; valid types: uretprobe, uprobe, kprobe, tracepoint, xdp, tc, exporter',
    );
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('an unknown option exits 1', () => {
    const result = run(['probe', '--type', 'xdp', '--frobnicate'], tempDir());
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: unknown option --frobnicate$/m);
  });
});

describe('flags', () => {
  it('`.` writes into the working directory and prints the next steps', () => {
    const cwd = join(tempDir(), 'dot-probe');
    mkdirSync(join(cwd, '.git'), { recursive: true });
    const result = run(['.', '--type', 'tc', '--tsbpf-version', 'file:../tsbpf.tgz'], cwd);
    expect(result.code).toBe(0);
    expect(JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8'))).toMatchObject({
      name: 'dot-probe',
      dependencies: { tsbpf: 'file:../tsbpf.tgz' },
    });
    expect(existsSync(join(cwd, '.gitignore'))).toBe(true);
    expect(existsSync(join(cwd, 'src', 'egress.bpf.c'))).toBe(true);
    // npm start and npm test build first (a no-op when up to date), so neither runs a stale dist/.
    expect(JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8')).scripts).toMatchObject({
      build: 'tsbpf build && tsc -b',
      prestart: 'npm run build',
      pretest: 'npm run build',
      dev: expect.stringMatching(/tsbpf build --watch .*node --watch dist\/src\/main\.js/),
    });
    // The committed loader is checked in CI, without clang.
    expect(readFileSync(join(cwd, '.github', 'workflows', 'ci.yml'), 'utf8')).toMatch(
      /npm ci\n[\s\S]*npx tsbpf build --check/,
    );
    expect(result.stdout).toContain('Next steps:');
    expect(result.stdout).not.toContain('cd ');
    expect(result.stdout).toMatch(/npm install\n\s+npm run build/);
  });

  it('`tsbpf create` is the same command', () => {
    const cwd = tempDir();
    const result = run(['create', 'probe', '--type', 'uprobe'], cwd, cliPath);
    expect(result.code).toBe(0);
    expect(existsSync(join(cwd, 'probe', 'target', 'greeter.c'))).toBe(true);
    // From a checkout, the project depends on the checkout (see the test below).
    expect(JSON.parse(readFileSync(join(cwd, 'probe', 'package.json'), 'utf8')).dependencies.tsbpf).toBe(
      `file:${realpathSync(repoRoot)}`,
    );
    const bad = run(['create', 'probe2', '--type', 'nope'], cwd, cliPath);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('valid types: uretprobe, uprobe, kprobe, tracepoint, xdp, tc, exporter');
  });

  it('from a checkout, the project installs its tsbpf without the registry (tsbpf is not published)', () => {
    const cwd = tempDir();
    expect(run(['probe', '--type', 'xdp'], cwd).code).toBe(0);
    const project = join(cwd, 'probe');
    const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
    expect(pkg.dependencies.tsbpf).toBe(`file:${realpathSync(repoRoot)}`);
    // The dev tools (typescript, vitest) would need the registry or its cache; this is about tsbpf.
    delete pkg.devDependencies;
    writeFileSync(join(project, 'package.json'), JSON.stringify(pkg));
    const install = spawnSync('npm', ['install', '--offline', '--no-audit', '--no-fund'], {
      cwd: project,
      encoding: 'utf8',
    });
    expect(install.status, install.stderr).toBe(0);
    const resolved = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', "console.log(import.meta.resolve('tsbpf'))"],
      { cwd: project, encoding: 'utf8' },
    );
    expect(resolved.stdout.trim(), resolved.stderr).toBe(
      pathToFileURL(join(realpathSync(repoRoot), 'dist', 'runtime', 'index.js')).href,
    );
  }, 120_000);

  it('uses the package manager that ran it in the next steps', () => {
    const cwd = tempDir();
    const result = spawnSync(process.execPath, [createPath, 'probe', '--type', 'xdp'], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, npm_config_user_agent: 'pnpm/9.12.0 npm/? node/v20.19.0 linux x64' },
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/pnpm install\n\s+pnpm build/);
  });
});

/**
 * Runs create-tsbpf on a pseudo-terminal. Each answer is sent once its prompt's text has
 * appeared on the screen after the previous answer.
 */
async function onTerminal(cwd: string, args: string[], answers: Array<[RegExp, string]>) {
  // script(1) gives the command a pty; stty gives it a size (a pipe-fed pty starts as 0x0).
  const command = `stty cols 120 rows 40; exec ${JSON.stringify(process.execPath)} ${JSON.stringify(createPath)} ${args.join(' ')}`;
  // A person at a terminal: CI=true (set by CI runners) turns prompts off by design.
  const { CI: _ci, ...env } = process.env;
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd,
    env,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let screen = '';
  let exitCode: number | null | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    screen += chunk.toString('utf8').replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
  });
  // 'close' (not 'exit'): by then everything the command printed has been read.
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      exitCode = code;
      resolve(code);
    }),
  );
  let from = 0;
  for (const [prompt, keys] of answers) {
    while (!prompt.test(screen.slice(from))) {
      if (exitCode !== undefined) throw new Error(`exited before the prompt ${prompt}:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    from = screen.length;
    child.stdin.write(keys);
  }
  const code = await exited;
  return { code, screen };
}

describe('prompts on a terminal', () => {
  it('asks for the directory, the type and a valid package name', async () => {
    const cwd = tempDir();
    const down = '\u001b[B';
    const { code, screen } = await onTerminal(
      cwd,
      [],
      [
        [/Project directory/, 'My Probe\r'],
        [/Program type[\s\S]*tc/, `${down}${down}${down}\r`], // uretprobe -> uprobe -> kprobe -> tracepoint
        [/Package name[\s\S]*my-probe/, '\r'], // accept the suggested fix
      ],
    );
    expect(code, screen).toBe(0);
    expect(screen).toContain('Next steps:');
    const pkg = JSON.parse(readFileSync(join(cwd, 'My Probe', 'package.json'), 'utf8'));
    expect(pkg.name).toBe('my-probe');
    expect(existsSync(join(cwd, 'My Probe', 'src', 'execsnoop.bpf.c'))).toBe(true);
  });

  it('asks only for what the flags leave out, and confirms before writing into a non-empty directory', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'keep.txt'), 'mine\n');
    const declined = await onTerminal(
      cwd,
      ['.', '--name', 'here'],
      [
        [/Program type/, '\r'],
        [/not empty/, 'n\r'],
      ],
    );
    expect(declined.code).toBe(1);
    expect(declined.screen).toContain('nothing was written');
    expect(readdirSync(cwd)).toEqual(['keep.txt']);

    const accepted = await onTerminal(cwd, ['.', '--name', 'here', '--type', 'xdp'], [[/not empty/, 'y\r']]);
    expect(accepted.code, accepted.screen).toBe(0);
    expect(accepted.screen).not.toContain('Program type');
    expect(readFileSync(join(cwd, 'keep.txt'), 'utf8')).toBe('mine\n');
    expect(existsSync(join(cwd, 'src', 'firewall.bpf.c'))).toBe(true);
  });

  it('Ctrl-C at a prompt cancels and writes nothing', async () => {
    const cwd = tempDir();
    const { code, screen } = await onTerminal(cwd, [], [[/Project directory/, '\u0003']]);
    expect(code).toBe(1);
    expect(screen).toContain('cancelled; nothing was written');
    expect(readdirSync(cwd)).toEqual([]);
  });
});
