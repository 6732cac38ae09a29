// probe_start_ratio_vs_c: time from starting a probe's process to its first event printed, for
// the uretprobe template (templates/uretprobe: a project created and built as a user would, its
// `tsbpf` this checkout) against a C program over a `bpftool gen skeleton` skeleton of the same
// object (bench/c/readline.c). An interactive bash in a pty is fed an empty line every 2 ms, so
// a readline() returns soon after the probe is attached on either side.
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { cBinary, outDir, repoRoot, skeleton } from '../lib/build.js';
import { run, sideBySide } from '../lib/harness.js';

const cli = join(repoRoot, 'dist', 'cli.js');

/** The template's project in bench/out/probe-start/, built; resolves its dist/src/main.js. */
async function templateProject() {
  const dir = join(outDir, 'probe-start', 'project');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await run(process.execPath, [join(repoRoot, 'dist', 'create.js'), dir, '--type', 'uretprobe', '--force']);
  // What `npm install` would give it, from this checkout: tsbpf itself, and tsc's type packages.
  mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
  symlinkSync(repoRoot, join(dir, 'node_modules', 'tsbpf'));
  symlinkSync(join(repoRoot, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'));
  symlinkSync(join(repoRoot, 'node_modules', 'vitest'), join(dir, 'node_modules', 'vitest'));
  await run(process.execPath, [cli, 'build'], { cwd: dir });
  await run(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-b'], {
    cwd: dir,
  });
  return { dir, main: join(dir, 'dist', 'src', 'main.js') };
}

/** The same program's object, compiled by tsbpf gen (the project embeds its own copy). */
async function templateObject(project) {
  const out = join(outDir, 'probe-start', 'object');
  mkdirSync(out, { recursive: true });
  await run(process.execPath, [
    cli,
    'gen',
    'readline',
    join(project.dir, 'src', 'readline.bpf.c'),
    '--out-dir',
    out,
    '--target',
    'bpfel',
    '-I',
    join(project.dir, 'src'),
  ]);
  return join(out, 'readline_bpfel.o');
}

/** An interactive bash in a pty, fed an empty line every 2 ms until stop(). */
async function chattyBash() {
  const bash = spawn('script', ['-qfc', 'bash --norc --noprofile -i', '/dev/null'], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  bash.stdout.resume();
  await new Promise((resolve) => bash.stdout.once('data', resolve)); // its first prompt
  const feed = setInterval(() => bash.stdin.write('\n'), 2);
  return {
    stop() {
      clearInterval(feed);
      bash.kill('SIGKILL');
    },
  };
}

/** Milliseconds from spawning `cmd` to its first event line ("PID\tLINE" with a numeric pid). */
function timeToFirstEvent(cmd, args, cwd) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let ms;
    const giveUp = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (ms === undefined && /^\d+\t/m.test(out)) {
        ms = performance.now() - t0;
        child.kill('SIGINT'); // the template detaches on SIGINT; the C side has exited already
      }
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    child.on('close', () => {
      clearTimeout(giveUp);
      if (ms === undefined)
        reject(new Error(`${cmd} printed no event: ${`${out}${err}`.trim().slice(-300)}`));
      else resolve(ms);
    });
  });
}

export async function measure({ quick }) {
  const project = await templateProject();
  const object = await templateObject(project);
  const binary = await cBinary('readline', [await skeleton(object, 'readline')]);
  const bash = await chattyBash();
  try {
    // One untimed start of each, so both find the page cache warm.
    await timeToFirstEvent(binary, []);
    await timeToFirstEvent(process.execPath, [project.main], project.dir);
    const pair = await sideBySide({
      reps: quick ? 3 : 7,
      baseline: async () => ({ value: await timeToFirstEvent(binary, []) }),
      tsbpf: async () => ({ value: await timeToFirstEvent(process.execPath, [project.main], project.dir) }),
    });
    return {
      figures: { probe_start_ratio_vs_c: pair.ratio },
      details: {
        probe_start: {
          ratio: pair.ratio,
          c_ms: pair.baselineMedian,
          tsbpf_ms: pair.tsbpfMedian,
          c_runs_ms: pair.baseline.map((s) => s.value),
          tsbpf_runs_ms: pair.tsbpf.map((s) => s.value),
        },
      },
    };
  } finally {
    bash.stop();
  }
}
