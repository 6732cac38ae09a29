// build_overhead_ratio: a cold `tsbpf build` of a one-program project (bench/c/three.bpf.c as
// probe.bpf.c, targets bpfel + bpfeb) over the clang + llvm-strip commands a hand-written build
// runs for the same objects: tsbpf's own command lines, replayed from its --verbose output with
// the same parallelism (one chain per target, concurrently), less the precompiled vmlinux.h
// they name. "Cold" is the project's first build on a machine that has built before, so the
// precompiled header is in the user's cache (src/toolchain/pch.ts).
// build_fixed_ms: what tsbpf adds over replaying exactly its own commands, header included
// (Node's start, config, hashing, loader generation); build_same_commands_ratio is that as a ratio.
// noop_build_ms: the same build again with nothing changed.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cDir, outDir, repoRoot, vmlinuxDir } from '../lib/build.js';
import { median, run, timeCommand } from '../lib/harness.js';

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

/**
 * The clang command lines a verbose build prints, with temp paths moved into `into`; `byHand`
 * drops the precompiled header, as a hand-written build would not have one.
 */
function bareCommands(verbose, into, { byHand }) {
  const lines = verbose.split('\n').filter((l) => /^tsbpf: \/\S*clang\S* .* -c /.test(l));
  return lines.map((line, i) => {
    const args = line
      .replace(/^tsbpf: /, '')
      .trim()
      .split(/\s+/);
    const clang = args.shift();
    const pch = args.indexOf('-include-pch');
    if (byHand && pch >= 0) args.splice(pch, 2);
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
  // Two untimed builds: the first leaves the mark that makes the second precompile vmlinux.h
  // (unless an earlier run did), whose --verbose output gives the exact commands; both warm the
  // page cache for every side.
  await verboseOutput(await freshProject(vmlinux, 'warm'));
  const verbose = await verboseOutput(await freshProject(vmlinux, 'probe'));
  const bareDir = join(outDir, 'build-bare');
  mkdirSync(bareDir, { recursive: true });
  const exact = bareCommands(verbose, bareDir, { byHand: false });
  const byHand = bareCommands(verbose, bareDir, { byHand: true });
  if (exact.length === 0) throw new Error('tsbpf build --verbose printed no clang command lines to replay');
  const usesPch = exact.some((c) => c.args.includes('-include-pch'));
  const replay = (commands) => async () => {
    const t0 = performance.now();
    await Promise.all(
      commands.map(async (c) => {
        await run(c.clang, c.args);
        await run('llvm-strip', ['-g', c.obj]);
      }),
    );
    return performance.now() - t0;
  };
  const sides = {
    byHand: replay(byHand),
    exact: replay(exact),
    tsbpf: async (i) =>
      timeCommand(process.execPath, [cli, 'build'], { cwd: await freshProject(vmlinux, i) }),
  };
  const times = { byHand: [], exact: [], tsbpf: [] };
  const noop = [];
  const reps = quick ? 3 : 7;
  const order = Object.keys(sides);
  for (let i = 0; i < reps; i++) {
    // Rotate which side goes first, so none always runs on a warmer (or busier) machine.
    for (let k = 0; k < order.length; k++) {
      const side = order[(i + k) % order.length];
      times[side].push(await sides[side](i));
    }
    noop.push(
      await timeCommand(process.execPath, [cli, 'build'], { cwd: join(outDir, 'build-project', String(i)) }),
    );
  }
  const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
  return {
    figures: {
      build_overhead_ratio: m.tsbpf / m.byHand,
      build_same_commands_ratio: m.tsbpf / m.exact,
      build_fixed_ms: m.tsbpf - m.exact,
      noop_build_ms: median(noop),
    },
    details: {
      build: {
        tsbpf_cold_ms: times.tsbpf,
        by_hand_ms: times.byHand,
        same_commands_ms: times.exact,
        noop_ms: noop,
        commands: exact.length,
        precompiled_header: usesPch,
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
