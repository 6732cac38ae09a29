// Builds the examples the way their README says (tsbpf build in each folder, then tsc over the
// examples folder) and runs one as a user would: `node examples/dist/<name>/main.js`, as root,
// watching its output.
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cliPath, repoRoot } from '../helpers/paths.js';

const run = promisify(execFile);
export const examplesDir = join(repoRoot, 'examples');

/** Every example folder, in the order examples/README.md lists them. */
export const exampleNames = [
  'execsnoop',
  'opensnoop',
  'bashreadline',
  'syscount',
  'tcpconnect',
  'xdpcount',
  'tcbytes',
  'sockwatch',
  'syslat',
  'profile',
  'offcputime',
] as const;

/** tsbpf vmlinux once (the examples share ../vmlinux.h), tsbpf build in each folder, then tsc. */
export async function buildExamples(): Promise<void> {
  const node = process.execPath;
  await run(node, [cliPath, 'vmlinux', '--out', join(examplesDir, 'vmlinux.h')], { cwd: examplesDir });
  await Promise.all(
    exampleNames.map(async (name) => {
      try {
        await run(node, [cliPath, 'build'], { cwd: join(examplesDir, name) });
      } catch (error) {
        const e = error as { stdout?: string; stderr?: string };
        throw new Error(`tsbpf build in examples/${name} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
      }
    }),
  );
  const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    await run(node, [tsc, '-p', examplesDir]);
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`tsc -p examples failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

export interface RunOptions {
  /** Output that says the example is attached and reading; default: "to stop". */
  ready?: RegExp;
  /** What the test does to make events happen, once the example is ready. */
  trigger?: () => Promise<void> | void;
  /** When the output holds what the test waits for; then the example gets SIGINT. */
  until: (output: string) => boolean;
  /** The example ends by itself once `until` holds: no SIGINT (it could land while it exits). */
  exitsByItself?: boolean;
  /** Gives up (SIGKILL) after this many ms: each run stays bounded. */
  timeout?: number;
}

export interface RunResult {
  /** Exit code (null when killed). */
  code: number | null;
  /** stdout and stderr, interleaved as they came. */
  output: string;
  /** Whether `until` was satisfied before the example exited or the time ran out. */
  satisfied: boolean;
}

/** Runs examples/dist/<name>/main.js, triggers events, waits for `until`, then Ctrl-C (SIGINT). */
export function runExample(name: string, args: string[], options: RunOptions): Promise<RunResult> {
  const ready = options.ready ?? /to stop/;
  const child = spawn(process.execPath, [join(examplesDir, 'dist', name, 'main.js'), ...args], {
    cwd: examplesDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let output = '';
  let triggered = false;
  let satisfied = false;
  const timer = setTimeout(() => {
    output += '\n(timed out: killed)';
    child.kill('SIGKILL');
  }, options.timeout ?? 15_000);
  const check = () => {
    if (!triggered && ready.test(output)) {
      triggered = true;
      Promise.resolve(options.trigger?.()).catch((error: unknown) => {
        output += `\n(trigger failed: ${String(error)})`;
        child.kill('SIGINT');
      });
    }
    if (triggered && !satisfied && options.until(output)) {
      satisfied = true;
      if (!options.exitsByItself) child.kill('SIGINT');
    }
  };
  const onData = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    check();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  // Outputs printed on a timer (counters) are checked as they come; events may also be awaited.
  const poll = setInterval(check, 100);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      clearInterval(poll);
      resolve({ code, output, satisfied });
    });
  });
}

/** Escapes text for use inside a RegExp. */
export const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
