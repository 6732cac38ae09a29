// A real Prometheus for the exporter tests: Debian's `prometheus` package binary (scripts/setup
// installs it), started with its own config and a storage folder in a temp dir, listening on a
// free port of 127.0.0.1. The package's own service, if running, plays no part.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { tempDir } from './paths.js';

export const prometheusBinary = '/usr/bin/prometheus';

/** A port nothing listens on now (bound, read, released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface PrometheusSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface RunningPrometheus {
  url: string;
  /** An instant query through /api/v1/query. */
  query(expr: string): Promise<PrometheusSample[]>;
  /** Polls `query` until `done` holds for its result (or fails with the last result and the log). */
  waitFor(
    expr: string,
    done: (r: PrometheusSample[]) => boolean,
    timeoutMs?: number,
  ): Promise<PrometheusSample[]>;
  close(): Promise<void>;
}

/** Starts Prometheus scraping `targets` (host:port) every second. */
export async function startPrometheus(targets: string[], job = 'tsbpf'): Promise<RunningPrometheus> {
  if (!existsSync(prometheusBinary)) {
    throw new Error(`${prometheusBinary} is missing: run scripts/setup (apt-get install prometheus)`);
  }
  const dir = tempDir('tsbpf-prometheus-');
  const config = join(dir, 'prometheus.yml');
  // JSON is YAML: the config needs no YAML writer.
  writeFileSync(
    config,
    JSON.stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      scrape_configs: [{ job_name: job, static_configs: [{ targets }] }],
    }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let log = '';
  const child: ChildProcess = spawn(
    prometheusBinary,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ok = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await close();
      throw new Error(`prometheus did not become ready:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const query = async (expr: string) => {
    const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await response.json()) as {
      status: string;
      error?: string;
      data: { result: PrometheusSample[] };
    };
    if (body.status !== 'success') throw new Error(`query ${expr}: ${body.error}`);
    return body.data.result;
  };
  const waitFor = async (expr: string, done: (r: PrometheusSample[]) => boolean, timeoutMs = 30_000) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const result = await query(expr);
      if (done(result)) return result;
      if (Date.now() > until) {
        const targetsState = await fetch(`${url}/api/v1/targets`).then((r) => r.text());
        throw new Error(`${expr}: ${JSON.stringify(result)}\ntargets: ${targetsState}\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  return { url, query, waitFor, close };
}
