// gen_1000_types_ms, gen_1000_types_max_rss_mb, tsc_1000_types_ms, gen_growth_exponent,
// tsc_growth_exponent: codegen and build at scale. A generated object (bench/lib/scale-source.js)
// of 1,000 named C types, 100 programs and 50 maps, compiled once with clang, then `tsbpf gen --objfile` with every type named
// (--type), and tsc (strict, the template's settings) on the loader it writes; the same at 10 and
// 100 types, so the details show how time, peak memory and file size grow. No baseline: these are
// absolute. *_growth_exponent is k in time ~ types^k from 100 to 1,000 types: 1 when the work
// grows linearly, 2 when it grows as the square, below 1 while fixed costs still weigh.
// gen's time is the one it prints (its work, without Node's start); tsc's is wall time.
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bpfArgs, outDir, repoRoot, vmlinuxDir } from '../lib/build.js';
import { median, run } from '../lib/harness.js';
import { scaleSource } from '../lib/scale-source.js';

const cli = join(repoRoot, 'dist', 'cli.js');
const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
const maxRss = new URL('../lib/max-rss.js', import.meta.url).pathname;

// The project template's compiler options (read from templates/base/tsconfig.json, so they cannot
// drift from what a user's project has), without emitting. The folder is inside this package, so
// the loader's `import ... from 'tsbpf'` resolves to it by name.
const template = JSON.parse(readFileSync(join(repoRoot, 'templates', 'base', 'tsconfig.json'), 'utf8'));
const tsconfig = { compilerOptions: { ...template.compilerOptions, noEmit: true }, files: ['scale.ts'] };

/** Wall time (ms), peak RSS (MiB) and stdout of a Node command. */
async function measured(args, cwd) {
  const rssFile = join(cwd, 'max-rss');
  const t0 = performance.now();
  const stdout = await run(process.execPath, ['--import', maxRss, ...args], {
    cwd,
    env: { ...process.env, BENCH_MAX_RSS: rssFile },
  });
  return { ms: performance.now() - t0, maxRssMb: Number(readFileSync(rssFile, 'utf8')) / 1024, stdout };
}

/** The time gen prints ("scale: 2 files in 162 ms"). */
function genMs(stdout) {
  const ms = /files? in (\d+(?:\.\d+)?) ms/.exec(stdout)?.[1];
  if (ms === undefined) throw new Error(`tsbpf gen printed no time: ${stdout.trim().slice(0, 200)}`);
  return Number(ms);
}

/** k in cost ~ types^k between two sizes. */
function exponent(from, to, key) {
  return Math.log(to[key] / from[key]) / Math.log(to.types / from.types);
}

async function size(types, reps) {
  const dir = join(outDir, 'codegen-scale', String(types));
  const { text, programs, maps, names } = scaleSource(types);
  const source = join(dir, 'scale.bpf.c');
  const object = join(dir, 'scale.o');
  const vmlinux = await vmlinuxDir();
  mkdirSync(dir, { recursive: true });
  writeFileSync(source, text);
  await run('clang', bpfArgs(source, object, vmlinux));
  writeFileSync(join(dir, 'tsconfig.json'), `${JSON.stringify(tsconfig)}\n`);
  const gen = [];
  const check = [];
  for (let i = 0; i < reps; i++) {
    gen.push(
      await measured([cli, 'gen', 'scale', '--objfile', object, ...names.map((n) => `--type=${n}`)], dir),
    );
    check.push(await measured([tsc, '-p', '.'], dir));
  }
  const btfTypes = (await run('bpftool', ['btf', 'dump', 'file', object]))
    .split('\n')
    .filter((l) => /^\[/.test(l));
  return {
    types,
    btf_types: btfTypes.length,
    programs,
    maps,
    gen_ms: median(gen.map((g) => genMs(g.stdout))),
    gen_wall_ms: median(gen.map((g) => g.ms)),
    gen_max_rss_mb: median(gen.map((g) => g.maxRssMb)),
    loader_bytes: statSync(join(dir, 'scale.ts')).size,
    tsc_ms: median(check.map((c) => c.ms)),
    tsc_max_rss_mb: median(check.map((c) => c.maxRssMb)),
  };
}

export async function measure({ quick }) {
  const reps = quick ? 1 : 3;
  const sizes = [];
  for (const types of [10, 100, 1000]) sizes.push(await size(types, reps));
  const large = sizes[2];
  return {
    figures: {
      gen_1000_types_ms: large.gen_ms,
      gen_1000_types_max_rss_mb: large.gen_max_rss_mb,
      tsc_1000_types_ms: large.tsc_ms,
      gen_growth_exponent: exponent(sizes[1], large, 'gen_ms'),
      tsc_growth_exponent: exponent(sizes[1], large, 'tsc_ms'),
    },
    details: { codegen_scale: sizes },
  };
}
