#!/usr/bin/env node
// `npm run bench` (node bench/run.js): every benchmark of issue 7, each running tsbpf and its C
// baseline side by side and reporting a ratio. Baselines and BPF objects are built here, on this
// machine, into bench/out/. Benchmarks are not tests: nothing here asserts a time.
//
//   node bench/run.js                 table on stdout
//   node bench/run.js --json          one JSON object with every figure (and details, machine)
//   node bench/run.js --only maps,load   some benchmarks (events maps load start detach build scale cli btf decode scrape sampling symbolize)
//   node bench/run.js --quick         fewer repetitions
//   node bench/run.js --svg FILE      also write the events/s-against-size plot
//   node bench/run.js --no-build      do not rebuild dist/ when it is older than src/
//   node bench/run.js --strict        exit 1 when a figure could not be measured (CI: the bench runs)
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { repoRoot } from './lib/build.js';
import { notes } from './lib/codegen.js';
import { round } from './lib/harness.js';
import { lineChart } from './lib/svg.js';

// bpftool and tc are in sbin on Debian, which a bare PATH (`env -i`, a CI runner, `su` without
// `-`) lacks; the baselines and the tsbpf sides spawned below inherit this.
const sbin = ['/usr/local/sbin', '/usr/sbin', '/sbin'];
const path = (process.env.PATH ?? '').split(':').filter(Boolean);
process.env.PATH = [...path, ...sbin.filter((dir) => !path.includes(dir))].join(':');

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const value = (name) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const json = flag('json');
const quick = flag('quick');
const only = value('only')?.split(',');
const log = (line) => process.stderr.write(`${line}\n`);

/** Every figure, the benchmark that produces it, and its target (for the table). */
const figures = [
  ['ringbuf_ratio_vs_c', 'events', '>= 0.5'],
  ['ringbuf_objects_ratio_vs_c', 'events', '>= 0.33'],
  ['ringbuf_objects_number_ratio_vs_c', 'events', ''],
  ['ringbuf_objects_scalars_ratio_vs_c', 'events', ''],
  ['ringbuf_objects_scalars_number_ratio_vs_c', 'events', ''],
  ['ringbuf_stream_ratio_vs_c', 'events', ''],
  ['ringbuf_lost_events', 'events', 'report'],
  ['perf_ratio_vs_c', 'events', '>= 0.5'],
  ['perf_objects_ratio_vs_c', 'events', '>= 0.33'],
  ['perf_objects_number_ratio_vs_c', 'events', ''],
  ['perf_objects_scalars_ratio_vs_c', 'events', ''],
  ['perf_objects_scalars_number_ratio_vs_c', 'events', ''],
  ['perf_stream_ratio_vs_c', 'events', ''],
  ['perf_lost_events', 'events', 'report'],
  ['map_batch_ratio_vs_c', 'maps', '>= 0.5'],
  ['map_single_ratio_vs_c', 'maps', ''],
  ['load_attach_ratio_vs_c', 'load', '<= 1.5'],
  ['probe_start_ratio_vs_c', 'start', ''],
  ['close_stall_ms', 'detach', ''],
  ['close_async_stall_ms', 'detach', ''],
  ['build_overhead_ratio', 'build', '<= 1.15'],
  ['build_same_commands_ratio', 'build', ''],
  ['build_fixed_ms', 'build', ''],
  ['noop_build_ms', 'build', ''],
  ['gen_1000_types_ms', 'scale', ''],
  ['gen_1000_types_max_rss_mb', 'scale', ''],
  ['tsc_1000_types_ms', 'scale', ''],
  ['gen_growth_exponent', 'scale', '<= 1'],
  ['tsc_growth_exponent', 'scale', '<= 1'],
  ['cli_start_ms', 'cli', '< 150'],
  ['vmlinux_btf_parse_ms', 'btf', '< 300'],
  ['decode_ratio_vs_handwritten', 'decode', '>= 0.9'],
  ['scrape_ratio_vs_c', 'scrape', 'report'],
  ['scrape_10k_ms', 'scrape', ''],
  ['scrape_100k_ms', 'scrape', ''],
  ['profile_overhead_99hz', 'sampling', 'report'],
  ['profile_sample_ns', 'sampling', 'report'],
  ['symbolize_kernel_cold_ms', 'symbolize', '< 1000'],
  ['symbolize_kernel_warm_ms', 'symbolize', '< 1000'],
  ['symbolize_kernel_ratio_vs_c', 'symbolize', ''],
  ['symbolize_user_cold_ms', 'symbolize', '< 1000'],
  ['symbolize_user_warm_ms', 'symbolize', '< 1000'],
  ['symbolize_user_ratio_vs_c', 'symbolize', ''],
];

const benchmarks = {
  events: async (ctx) => (await import('./benchmarks/events.js')).measure(ctx),
  maps: async (ctx) => (await import('./benchmarks/maps.js')).measure(ctx),
  load: async (ctx) => (await import('./benchmarks/load.js')).measure(ctx),
  start: async (ctx) => (await import('./benchmarks/probe-start.js')).measure(ctx),
  detach: async (ctx) => (await import('./benchmarks/detach.js')).measure(ctx),
  build: async (ctx) => (await import('./benchmarks/build.js')).measure(ctx),
  scale: async (ctx) => (await import('./benchmarks/codegen-scale.js')).measure(ctx),
  cli: async (ctx) => (await import('./benchmarks/startup.js')).measureCli(ctx),
  btf: async (ctx) => (await import('./benchmarks/startup.js')).measureBtf(ctx),
  decode: async (ctx) => (await import('./benchmarks/decode.js')).measure(ctx),
  scrape: async (ctx) => (await import('./benchmarks/scrape.js')).measure(ctx),
  sampling: async (ctx) => (await import('./benchmarks/sampling.js')).measure(ctx),
  symbolize: async (ctx) => (await import('./benchmarks/symbolize.js')).measure(ctx),
};

// A mistyped option or benchmark name would otherwise run every benchmark (half an hour) or none
// (an empty table): each is one line naming it and exit 1, before anything runs.
const options = { json: false, only: true, quick: false, svg: true, 'no-build': false, strict: false };
function usageError(message) {
  log(`bench: ${message}`);
  process.exit(1);
}
for (let i = 0; i < argv.length; i++) {
  const name = argv[i].startsWith('--') ? argv[i].slice(2) : undefined;
  if (name === undefined || !(name in options)) {
    usageError(
      `unknown option ${argv[i]}; options: ${Object.keys(options)
        .map((o) => `--${o}`)
        .join(' ')}`,
    );
  }
  if (options[name]) {
    if (argv[i + 1] === undefined || argv[i + 1].startsWith('--')) usageError(`--${name} needs a value`);
    i++;
  }
}
for (const name of only ?? []) {
  if (!(name in benchmarks)) {
    usageError(`--only: no benchmark "${name}"; benchmarks: ${Object.keys(benchmarks).join(' ')}`);
  }
}

/** Newest mtime of the .ts files under dir. */
function newest(dir) {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) t = Math.max(t, newest(p));
    else if (entry.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

function ensureDist() {
  const stamp = join(repoRoot, 'dist', 'cli.js');
  if (flag('no-build') || (existsSync(stamp) && statSync(stamp).mtimeMs >= newest(join(repoRoot, 'src'))))
    return;
  log('bench: dist/ is older than src/: npm run build');
  const r = spawnSync('npm', ['run', '--silent', 'build'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0) {
    const output = `${r.stdout}${r.stderr}`.split('\n').slice(0, 8).join('\n');
    throw new Error(`npm run build failed; the bench measures dist/, so fix the build first:\n${output}`);
  }
}

function tool(cmd, args, pattern) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return pattern.exec(`${r.stdout}${r.stderr}`)?.[1] ?? 'unknown';
}

function machine() {
  // The file libbpf.so.1 points at carries the full version (libbpf.so.1.1.2).
  const so = /libbpf\.so\.1 \(libc6,x86-64\) => (\S+)/.exec(
    spawnSync('ldconfig', ['-p'], { encoding: 'utf8' }).stdout ?? '',
  )?.[1];
  const libbpf = so ? (/libbpf\.so\.(\S+)$/.exec(realpathSync(so))?.[1] ?? 'unknown') : 'unknown';
  return {
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model ?? 'unknown',
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    node: process.version,
    clang: tool('clang', ['--version'], /version (\S+)/),
    gcc: tool('gcc', ['-dumpfullversion'], /(\S+)/),
    libbpf,
    bpftool: tool('bpftool', ['version'], /v(\S+)/),
    loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  };
}

async function main() {
  ensureDist();
  const result = { machine: machine(), missing: {}, details: {}, notes: [] };
  for (const [key] of figures) result[key] = null;
  const started = performance.now();
  for (const [name, bench] of Object.entries(benchmarks)) {
    if (only && !only.includes(name)) continue;
    const t0 = performance.now();
    log(`bench: ${name} ...`);
    try {
      // One retry: other work on a shared machine (a dist/ rebuild, say) can break a single run.
      const r = await bench({ quick, tools: {} }).catch((error) => {
        log(`bench: ${name} failed once, retrying: ${String(error?.message ?? error).split('\n')[0]}`);
        return bench({ quick, tools: {} });
      });
      Object.assign(result, r.figures);
      Object.assign(result.details, r.details);
    } catch (error) {
      const reason = String(error?.message ?? error)
        .split('\n')
        .slice(0, 4)
        .join(' ')
        .slice(0, 400);
      for (const [key, owner] of figures) if (owner === name) result.missing[key] = reason;
      log(`bench: ${name} failed: ${reason}`);
    }
    log(`bench: ${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  result.notes = [...notes];
  result.seconds = (performance.now() - started) / 1000;
  const svg = value('svg');
  const sweep = result.details.ringbuf_by_size;
  if (svg && sweep) {
    mkdirSync(dirname(svg), { recursive: true });
    writeFileSync(
      svg,
      lineChart({
        title: 'Ring buffer: events/s read and decoded, by event size',
        xLabel: 'event size (bytes)',
        yLabel: 'events per second',
        series: [
          { name: 'C libbpf', colour: '#1f77b4', points: sweep.map((p) => [p.size, p.c]) },
          { name: 'tsbpf consume()', colour: '#d62728', points: sweep.map((p) => [p.size, p.tsbpf]) },
          {
            name: 'tsbpf objects',
            colour: '#ff9896',
            points: sweep.map((p) => [p.size, p.tsbpf_objects]),
          },
        ],
      }),
    );
  }
  if (flag('strict') && Object.keys(result.missing).length > 0) {
    log(`bench: --strict: ${Object.keys(result.missing).length} figure(s) missing`);
    process.exitCode = 1;
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const rows = figures
    .filter(([, owner]) => !only || only.includes(owner))
    .map(([key, , target]) => {
      const v = result[key];
      const shown =
        v === null
          ? `missing: ${result.missing[key] ?? 'not measured'}`
          : typeof v === 'object'
            ? JSON.stringify(v)
            : round(v);
      return [key, String(shown), target];
    });
  const w = Math.max(...rows.map((r) => r[0].length));
  process.stdout.write(`figure${' '.repeat(w - 6)}  value  (target)\n`);
  for (const [k, v, t] of rows) process.stdout.write(`${k.padEnd(w)}  ${v}${t ? `  (${t})` : ''}\n`);
  for (const n of result.notes) process.stdout.write(`note: ${n}\n`);
}

main().catch((error) => {
  log(`bench: ${error?.stack ?? error}`);
  process.exit(1);
});
