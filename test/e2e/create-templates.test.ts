// Every template, the way a user gets it: `npm pack` tsbpf, create a project against that
// tarball, `npm install`, `npm run build` (tsbpf build + tsc), `npm test` (the project's own
// kernel test), and `npm start`: detaches cleanly on SIGINT as root, and says it needs root
// when run as another user (and the tracepoint template's output escapes a hostile process
// name). Needs root, clang, bpftool, cc, and the npm registry (or its cache).
// TSBPF_KEEP_E2E=1 keeps the projects (in $TMPDIR/tsbpf-e2e-*) for a look after a failure.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { repoRoot, tempDir } from '../helpers/paths.js';
import { freePort, startPrometheus } from '../helpers/prometheus.js';
import { onlyCapabilities, runContainerfile } from './containerfile.js';

const createPath = join(repoRoot, 'dist', 'create.js');
const hasKprobes = existsSync('/sys/bus/event_source/devices/kprobe');
const npmFlags = ['--no-audit', '--no-fund', '--prefer-offline'];

let tarball = '';
let work = '';

beforeAll(() => {
  work = tempDir('tsbpf-e2e-');
  // Others must reach the projects for the "not root" runs below.
  chmodSync(work, 0o755);
  // The global setup has built dist/; pack exactly what `npm publish` would.
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', work, ...npmFlags], {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  ) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = join(work, packed[0]!.filename);
  const files = packed[0]!.files.map((f) => f.path);
  expect(files).toContain('dist/create.js');
  expect(files).toContain('templates/base/_gitignore');
}, 300_000);

// Each project holds a full node_modules: remove them unless asked to keep them for a post-mortem.
afterAll(() => {
  if (work !== '' && !process.env.TSBPF_KEEP_E2E) rmSync(work, { recursive: true, force: true });
});

/** Runs a command in a project; output is kept for the assertion message. */
function run(cwd: string, file: string, args: string[], timeout = 600_000) {
  const env = {
    ...process.env,
    NO_COLOR: '1',
    CI: 'true',
    npm_config_user_agent: '',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_prefer_offline: 'true',
  };
  const result = spawnSync(file, args, { cwd, encoding: 'utf8', timeout, env });
  const output = `$ ${file} ${args.join(' ')}\n${result.stdout}\n${result.stderr}`;
  return { code: result.status, output, stdout: result.stdout };
}

/** What to do once the program runs, and the output to wait for before the SIGINT (30 s at most). */
interface Events {
  trigger: () => void;
  until: (output: string) => boolean;
}

/**
 * Starts `npm start`, waits for the program to say it is running (then for `events`, if given),
 * sends SIGINT, returns the output.
 */
async function startAndInterrupt(
  cwd: string,
  args: string[],
  events?: Events,
): Promise<{ code: number | null; output: string }> {
  // Run the compiled entry directly: npm would sit between the signal and the program.
  const child = spawn(process.execPath, ['dist/src/main.js', ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let started = false;
  let interrupted = false;
  let timer: NodeJS.Timeout | undefined;
  const interrupt = () => {
    if (!interrupted) child.kill('SIGINT');
    interrupted = true;
  };
  const onData = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (!started && /Ctrl-C to stop/.test(output)) {
      started = true;
      if (events) timer = setTimeout(interrupt, 30_000);
      events?.trigger();
    }
    if (started && (events === undefined || events.until(output))) interrupt();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  // 'close', not 'exit': the last output may still be in the pipes when the process exits.
  const code = await new Promise<number | null>((resolve) =>
    child.on('close', (c, signal) => {
      clearTimeout(timer);
      if (signal !== null) output += `\n(killed by ${signal})`;
      resolve(c);
    }),
  );
  return { code, output };
}

const templates: Array<{ type: string; startArgs: string[] }> = [
  { type: 'uretprobe', startArgs: [] },
  { type: 'uprobe', startArgs: [] },
  { type: 'kprobe', startArgs: [] },
  { type: 'tracepoint', startArgs: [] },
  { type: 'xdp', startArgs: ['lo'] },
  { type: 'tc', startArgs: ['lo'] },
  { type: 'exporter', startArgs: ['0'] }, // port 0: any free one
];

describe.concurrent.each(templates)('template $type', ({ type, startArgs }) => {
  it('creates, installs, builds, passes its own test and runs', async () => {
    const dir = join(work, `${type}-project`);
    // --install runs `npm install` in the new project; run() passes the npm flags as npm config.
    const created = run(work, process.execPath, [
      createPath,
      dir,
      '--type',
      type,
      '--tsbpf-version',
      `file:${tarball}`,
      '--install',
    ]);
    expect(created.code, created.output).toBe(0);
    expect(existsSync(join(dir, 'node_modules', 'tsbpf', 'package.json')), created.output).toBe(true);

    const build = run(dir, 'npm', ['run', 'build']);
    expect(build.code, build.output).toBe(0);
    const ident = JSON.parse(readFileSync(join(dir, 'tsbpf.config.json'), 'utf8')).programs[0]
      .ident as string;
    expect(readFileSync(join(dir, 'src', `${ident}.ts`), 'utf8')).toMatch(
      /^\/\/ Code generated by tsbpf\. DO NOT EDIT\./,
    );
    expect(existsSync(join(dir, 'src', 'vmlinux.h'))).toBe(true);
    expect(existsSync(join(dir, 'dist', 'src', 'main.js'))).toBe(true);

    const test = run(dir, 'npm', ['test']);
    expect(test.code, test.output).toBe(0);
    if (type === 'kprobe') {
      // The attach test names why it is skipped here, and runs where kprobes exist.
      const line = test.stdout.split('\n').find((l) => l.includes('counts do_unlinkat calls')) ?? '';
      expect(line, test.output).toContain('skipped: no kprobe support in this kernel');
      if (hasKprobes) expect(line, test.output).toContain('✓');
      else expect(line, test.output).toContain('↓');
    }

    // npm start as another user: a clear message and exit 1.
    const asNobody = spawnSync(process.execPath, ['dist/src/main.js', ...startArgs], {
      cwd: dir,
      encoding: 'utf8',
      uid: 65534,
      gid: 65534,
      timeout: 60_000,
    });
    expect(asNobody.status, asNobody.stderr).toBe(1);
    expect(asNobody.stderr).toMatch(/needs root: run `sudo npm start`/);

    // npm start as root: attaches, and Ctrl-C detaches and exits cleanly.
    const started = await startAndInterrupt(dir, startArgs);
    if (type === 'kprobe' && !hasKprobes) {
      expect(started.code, started.output).toBe(1);
      expect(started.output).toMatch(/cannot attach kprobes/);
    } else {
      expect(started.code, started.output).toBe(0);
      expect(started.output).toContain('Detaching.');
    }

    if (type === 'tracepoint') {
      // Any user may name a process and a file with escape sequences (here: red text, a new
      // window title); the program shows them escaped instead of sending them to the terminal.
      const hostile = '\x1b[31mevil\x1b]0;x\x07';
      const shown = '\\x1b[31mevil\\x1b]0;x\\x07'; // what printable() makes of it
      const file = join(dir, hostile);
      symlinkSync('/bin/true', file);
      // The sh's execve of the symlink: "PID PPID COMM FILE", with its new name and the file's.
      const execLine = (out: string) =>
        out.split('\n').find((l) => l.endsWith(` ${shown} ${join(dir, shown)}`));
      let pid = 0;
      const watched = await startAndInterrupt(dir, startArgs, {
        trigger: () => {
          const script = 'printf %s "$1" > /proc/self/comm; exec "$0"';
          pid = spawn('sh', ['-c', script, file, hostile], { stdio: 'ignore' }).pid ?? 0;
        },
        until: (out) => execLine(out) !== undefined,
      });
      expect(watched.code, watched.output).toBe(0);
      const [linePid, linePpid] = execLine(watched.output)?.trim().split(/\s+/) ?? [];
      expect([linePid, linePpid], watched.output).toEqual([String(pid), String(process.pid)]);
      expect(watched.output).not.toContain('\x1b');
      expect(watched.output).not.toContain('\x07');
    }

    if (type === 'exporter') await checkExporterImage(dir);
  }, 900_000);
});

/**
 * The exporter template's deployment files, for real: the DaemonSet manifest parsed and checked
 * (capabilities, mounts, readiness), the Containerfile's stages run here (install, build, prune,
 * copy), its CMD started with exactly the manifest's capabilities, and a real Prometheus scraping
 * it must store the per-process counter and the latency histogram.
 */
async function checkExporterImage(dir: string): Promise<void> {
  const manifest = parseYaml(readFileSync(join(dir, 'deploy', 'daemonset.yaml'), 'utf8'));
  expect(manifest).toMatchObject({ apiVersion: 'apps/v1', kind: 'DaemonSet' });
  const pod = manifest.spec.template.spec;
  expect(pod.hostPID).toBe(false);
  const container = pod.containers[0];
  expect(container.securityContext).toMatchObject({ privileged: false, allowPrivilegeEscalation: false });
  expect(container.securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['BPF', 'PERFMON'] });
  const hostPaths = Object.fromEntries(
    pod.volumes.map((v: { name: string; hostPath: { path: string } }) => [v.name, v.hostPath.path]),
  );
  const mounts = Object.fromEntries(
    container.volumeMounts.map((m: { name: string; mountPath: string; readOnly?: boolean }) => [
      m.mountPath,
      { host: hostPaths[m.name], readOnly: m.readOnly ?? false },
    ]),
  );
  expect(mounts).toEqual({
    '/sys/kernel/tracing': { host: '/sys/kernel/tracing', readOnly: true },
    '/sys/kernel/btf': { host: '/sys/kernel/btf', readOnly: true },
    '/sys/fs/bpf': { host: '/sys/fs/bpf', readOnly: false },
  });
  expect(container.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'metrics' });
  expect(container.ports).toContainEqual({ name: 'metrics', containerPort: 9464 });

  const stages = runContainerfile(join(dir, 'Containerfile'), dir, join(dir, '..', 'exporter-image'));
  const image = stages.at(-1)!;
  expect(stages.map((s) => s.name)).toEqual(['build', 'stage1']);
  // The image holds what runs and nothing to build with.
  expect(existsSync(join(image.dir, 'dist', 'src', 'main.js'))).toBe(true);
  expect(existsSync(join(image.dir, 'node_modules', 'prom-client'))).toBe(true);
  expect(existsSync(join(image.dir, 'node_modules', 'typescript'))).toBe(false);
  expect(existsSync(join(image.dir, 'src'))).toBe(false);

  const port = await freePort();
  const [command, ...args] = image.cmd!;
  expect(command).toBe('node');
  const child = spawn(
    'setpriv',
    [...onlyCapabilities(container.securityContext.capabilities.add), process.execPath, ...args],
    {
      cwd: image.dir,
      env: { PATH: process.env.PATH, ...image.env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  const prometheus = await startPrometheus([`127.0.0.1:${port}`], 'sysstats');
  try {
    // Attached and ready, with only CAP_BPF and CAP_PERFMON.
    await prometheus
      .waitFor('up{job="sysstats"}', (r) => r[0]?.value[1] === '1', 60_000)
      .catch((e: Error) => {
        throw new Error(`${e.message}\nexporter output:\n${output}`);
      });
    expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200);
    const caps = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    expect(caps, 'setpriv execs node in its place').toMatch(/^CapEff:\s+000000c000000000$/m);
    const busy = await prometheus.waitFor(
      'topk(1, sysstats_syscalls_total)',
      (r) => Number(r[0]?.value[1] ?? 0) > 0,
    );
    expect(busy[0]!.metric).toHaveProperty('comm');
    const buckets = await prometheus.waitFor(
      'sysstats_syscall_latency_seconds_bucket',
      (r) => r.length === 33,
    );
    const inf = buckets.find((b) => b.metric.le === '+Inf');
    const [count] = await prometheus.query('sysstats_syscall_latency_seconds_count');
    expect(Number(inf!.value[1])).toBeGreaterThan(0);
    expect(Number(count!.value[1])).toBeGreaterThanOrEqual(Number(inf!.value[1]));
  } finally {
    await prometheus.close();
    child.kill('SIGTERM');
  }
  expect(await closed, output).toBe(0);
  expect(output).toContain('Detaching.');
}
