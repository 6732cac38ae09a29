// Shared by the reliability tests: child processes that use the built runtime, a veth pair in its
// own network namespace, and what the kernel still holds (programs, links, XDP, tc filters).
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileFixture } from '../helpers/bpf.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

export const runtimePath = join(repoRoot, 'dist/runtime/index.js');

/** A fixture under test/reliability/fixtures, compiled with the product's flags. */
export function reliabilityFixture(name: string): Uint8Array {
  return compileFixture(join(repoRoot, 'test/reliability/fixtures', `${name}.bpf.c`));
}

/** A fixture of the kernel tests (test/fixtures/runtime). */
export function runtimeFixture(name: string): Uint8Array {
  return compileFixture(join(repoRoot, 'test/fixtures/runtime', `${name}.bpf.c`));
}

/** A temp dir every user can read (the least-privilege tests run children as nobody). */
export function sharedDir(): string {
  const dir = tempDir('tsbpf-rel-');
  chmodSync(dir, 0o755);
  return dir;
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node script` (with `prefix` before node, e.g. ip netns exec / setpriv). When the child
 * prints `ready`, `onReady` may signal it.
 */
export function runNode(
  script: string,
  options: { prefix?: string[]; args?: string[]; onReady?: (pid: number) => void; cwd?: string } = {},
): Promise<ChildResult> {
  const prefix = options.prefix ?? [];
  const argv = [...prefix, process.execPath, script, ...(options.args ?? [])];
  const proc = spawn(argv[0] as string, argv.slice(1), {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: options.cwd,
  });
  let stdout = '';
  let stderr = '';
  let readySeen = false;
  return new Promise((resolve) => {
    proc.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!readySeen && stdout.includes('ready\n')) {
        readySeen = true;
        options.onReady?.(proc.pid as number);
      }
    });
    proc.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    proc.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export function writeScript(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text.replaceAll('RUNTIME', runtimePath), { mode: 0o644 });
  return path;
}

/** A network namespace with an up veth pair (a <-> b). */
export function createNetns(name: string, a: string, b: string): void {
  deleteNetns(name);
  execFileSync('ip', ['netns', 'add', name]);
  execFileSync('ip', ['-n', name, 'link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
  execFileSync('ip', ['-n', name, 'link', 'set', a, 'up']);
  execFileSync('ip', ['-n', name, 'link', 'set', b, 'up']);
}

export function deleteNetns(name: string): void {
  try {
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  } catch {
    // not there
  }
}

/** Ids of the loaded programs whose name starts with prefix (bpftool prog show). */
export function programIds(prefix: string): number[] {
  const progs = JSON.parse(
    execFileSync('bpftool', ['--json', 'prog', 'show'], { maxBuffer: 1 << 26 }).toString(),
  ) as {
    id: number;
    name?: string;
  }[];
  return progs.filter((p) => p.name?.startsWith(prefix)).map((p) => p.id);
}

/** Links whose program is one of ids (bpftool link show). */
export function linksOf(ids: number[]): number[] {
  const links = JSON.parse(
    execFileSync('bpftool', ['--json', 'link', 'show'], { maxBuffer: 1 << 26 }).toString(),
  ) as {
    id: number;
    prog_id: number;
  }[];
  return links.filter((l) => ids.includes(l.prog_id)).map((l) => l.id);
}

/** `ip link show dev` inside a netns: the line names the XDP program when one is attached. */
export function xdpOn(netns: string, dev: string): string {
  const text = execFileSync('ip', ['-n', netns, 'link', 'show', 'dev', dev]).toString();
  return /prog\/xdp|xdp(generic|drv|offload)?\b/.test(text) ? text : '';
}

/** `tc filter show dev <dev> ingress|egress` inside a netns (empty when no filter). */
export function tcFilters(netns: string, dev: string, direction: 'ingress' | 'egress'): string {
  try {
    return execFileSync('tc', ['-n', netns, 'filter', 'show', 'dev', dev, direction]).toString().trim();
  } catch {
    return ''; // no clsact qdisc: no filter either
  }
}

/** Polls until check() holds or the deadline passes (the kernel frees programs after an RCU grace period). */
export async function eventually<T>(read: () => T, done: (value: T) => boolean, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  let value = read();
  while (!done(value) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    value = read();
  }
  return value;
}
