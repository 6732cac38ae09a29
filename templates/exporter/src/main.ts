// A Prometheus exporter: counts the system calls of every process and the latency of each call
// in the kernel, and serves the counts on http://<host>:9464/metrics (GET /ready answers 200 once
// attached). Ctrl-C or SIGTERM stops it. Needs root or CAP_BPF + CAP_PERFMON (see the README).
//
//   npm start [-- port]        (or PORT=9464 HOST=0.0.0.0 npm start; port 0 picks a free one)

import { PermissionError, printable, TsbpfError, VerifierError } from 'tsbpf';
import { prometheusRegistry, serveMetrics } from 'tsbpf/metrics';
import { sysstatsMetrics } from './metrics.js';
import { loadSysstats } from './sysstats.js';

async function main(): Promise<void> {
  // `await using` detaches the programs, frees the maps and stops the server when main() returns.
  await using objs = await loadSysstats();
  await using _enter = objs.programs.sysEnter.attach();
  await using _exit = objs.programs.sysExit.attach();
  await using _exec = objs.programs.schedExec.attach();

  const registry = await prometheusRegistry(sysstatsMetrics(objs));
  await using server = await serveMetrics({
    registry,
    port: Number(process.argv[2] ?? process.env.PORT ?? 9464),
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
  if (error instanceof TsbpfError && error.hint) console.error(`hint: ${error.hint}`);
  // The verifier's whole log says why it refused; it runs to hundreds of lines, so only on request.
  if (error instanceof VerifierError) {
    if (process.env.TSBPF_VERBOSE) console.error(error.log.split('\n').map(printable).join('\n'));
    else console.error('Run with TSBPF_VERBOSE=1 to print the whole verifier log.');
  }
  if (error instanceof PermissionError || process.getuid?.() !== 0) {
    console.error('Loading eBPF programs needs root: run `sudo npm start`.');
  }
  process.exitCode = 1;
});
