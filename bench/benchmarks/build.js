// build_overhead_ratio: a cold `tsbpf build` of a one-program project (bench/c/three.bpf.c as
// probe.bpf.c, targets bpfel + bpfeb) over the bare clang + llvm-strip commands it runs, replayed
// from its own --verbose output with the same parallelism (one chain per target, concurrently).
// noop_build_ms: the same build again with nothing changed.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cDir, outDir, repoRoot, vmlinuxDir } from '../lib/build.js';
import { median, run, sideBySide, timeCommand } from '../lib/harness.js';

const cli = join(repoRoot, 'dist', 'cli.js');

async function freshProject(vmlinux, i) {
  const dir = join(outDir, 'build-project', String(i));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(join(cDir, 'three.bpf.c'), join(dir, 'probe.bpf.c'));
  const config = {
    programs: [{ ident: 'probe', source: 'probe.bpf.c' }],
    vmlinux: { dir: vmlinux, generate: false },
  };
  writeFileSync(join(dir, 'tsbpf.config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return dir;
}

/** The clang command lines a verbose build prints, with temp paths moved into `into`. */
function bareCommands(verbose, into) {
  const lines = verbose.split('\n').filter((l) => /^tsbpf: \/\S*clang\S* .* -c /.test(l));
  return lines.map((line, i) => {
    const args = line
      .replace(/^tsbpf: /, '')
      .trim()
      .split(/\s+/);
    const clang = args.shift();
    const obj = join(into, `bare-${i}.o`);
    for (const flag of ['-MF', '-MT', '-o']) {
      const at = args.indexOf(flag);
      if (at >= 0) args[at + 1] = flag === '-MF' ? `${obj}.d` : obj;
    }
    return { clang, args, obj };
  });
}

export async function measure({ quick }) {
  if (!existsSync(cli)) throw new Error('dist/cli.js is missing (run npm run build)');
  const vmlinux = await vmlinuxDir();
  // One untimed verbose build: the exact commands tsbpf runs, and a warm page cache for both sides.
  const probe = await freshProject(vmlinux, 'probe');
  const bareDir = join(outDir, 'build-bare');
  mkdirSync(bareDir, { recursive: true });
  const commands = bareCommands(await verboseOutput(probe), bareDir);
  if (commands.length === 0)
    throw new Error('tsbpf build --verbose printed no clang command lines to replay');
  const strip = 'llvm-strip';
  const noop = [];
  const pair = await sideBySide({
    reps: quick ? 2 : 4,
    baseline: async () => {
      const t0 = performance.now();
      await Promise.all(
        commands.map(async (c) => {
          await run(c.clang, c.args);
          await run(strip, ['-g', c.obj]);
        }),
      );
      return { value: performance.now() - t0 };
    },
    tsbpf: async (i) => {
      const dir = await freshProject(vmlinux, i);
      const ms = await timeCommand(process.execPath, [cli, 'build'], { cwd: dir });
      noop.push(await timeCommand(process.execPath, [cli, 'build'], { cwd: dir }));
      return { value: ms };
    },
  });
  return {
    figures: { build_overhead_ratio: pair.ratio, noop_build_ms: median(noop) },
    details: {
      build: {
        ratio: pair.ratio,
        bare_ms: pair.baselineMedian,
        tsbpf_cold_ms: pair.tsbpfMedian,
        noop_ms: noop,
        commands: commands.length,
      },
    },
  };
}

/** The output of `tsbpf build --verbose` (its command lines go to stderr). */
function verboseOutput(dir) {
  const r = spawnSync(process.execPath, [cli, 'build', '--verbose'], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`tsbpf build failed: ${`${r.stderr}`.trim().split('\n').slice(-3).join(' ')}`);
  return `${r.stdout}\n${r.stderr}`;
}
