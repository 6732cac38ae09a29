// A Prometheus exporter: counts the system calls of every process and the latency of each call
// in the kernel, and serves the counts on http://<host>:9464/metrics (GET /ready answers 200 once
// attached). Ctrl-C or SIGTERM stops it. Needs root or CAP_BPF + CAP_PERFMON (see the README).
//
//   npm start [-- port]        (or PORT=9464 HOST=0.0.0.0 npm start; port 0 picks a free one)

import { PermissionError, printable, TsbpfError, UsageError, VerifierError } from 'tsbpf';
import { prometheusRegistry, serveMetrics } from 'tsbpf/metrics';
import { sysstatsMetrics } from './metrics.js';
import { loadSysstats } from './sysstats.js';

/** The port from `npm start -- PORT` or $PORT, checked before the programs load. */
function metricsPort(): number {
  const [text, from] =
    process.argv[2] !== undefined ? [process.argv[2], 'port argument'] : [process.env.PORT ?? '9464', 'PORT'];
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new UsageError(`${from} "${text}" is not a TCP port`, {
      hint: 'give a whole number from 1 to 65535, or 0 for any free one: `PORT=9464 npm start`',
    });
  }
  return Number(text);
}

async function main(): Promise<void> {
  const port = metricsPort();
  // `await using` detaches the programs, frees the maps and stops the server when main() returns.
  await using objs = await loadSysstats();
  await using _enter = objs.programs.sysEnter.attach();
  await using _exit = objs.programs.sysExit.attach();
  await using _exec = objs.programs.schedExec.attach();

  const registry = await prometheusRegistry(sysstatsMetrics(objs));
  await using server = await serveMetrics({
    registry,
    port,
    host: process.env.HOST ?? '0.0.0.0',
  });
  server.setReady(true);

  const stopped = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  console.log(`Serving ${server.url}/metrics (and /ready). Ctrl-C to stop.`);
  await stopped;
  server.setReady(false);
  console.log('\nDetaching.');
}

main().catch((error: unknown) => {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  // A tsbpf error's hint says what to do (grant CAP_BPF, choose another port, ...).
  const hint = error instanceof TsbpfError ? error.hint : undefined;
  if (hint) console.error(`hint: ${hint}`);
  if (error instanceof PermissionError || (!hint && process.getuid?.() !== 0)) {
    console.error('Loading eBPF programs needs root: run `sudo npm start`.');
  }
  // The verifier's whole log says why it refused; it runs to hundreds of lines, so only on request.
  if (error instanceof VerifierError) {
    if (process.env.TSBPF_VERBOSE) console.error(error.log.split('\n').map(printable).join('\n'));
    else console.error('Run with TSBPF_VERBOSE=1 to print the whole verifier log.');
  }
  process.exitCode = 1;
});
