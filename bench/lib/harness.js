// The measuring harness: run a tsbpf side and its baseline alternately (C, tsbpf, C, tsbpf, ...)
// so both see the same machine noise, take medians, and report their ratio. Shared 2-core
// machines are noisy, which is why every figure that can be a ratio is one.
import { execFile } from 'node:child_process';

/** The median of a list of numbers (the mean of the middle two for even lengths). */
export function median(values) {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Runs `baseline` and `tsbpf` alternately `reps` times. Each returns a sample object holding
 * `value` (the number compared). ratio = median(tsbpf) / median(baseline).
 */
export async function sideBySide({ reps, baseline, tsbpf }) {
  const c = [];
  const t = [];
  for (let i = 0; i < reps; i++) {
    // Alternate which side goes first, so neither always runs on a warmer (or busier) machine.
    if (i % 2 === 0) {
      c.push(await baseline(i));
      t.push(await tsbpf(i));
    } else {
      t.push(await tsbpf(i));
      c.push(await baseline(i));
    }
  }
  const cm = median(c.map((s) => s.value));
  const tm = median(t.map((s) => s.value));
  return { baseline: c, tsbpf: t, baselineMedian: cm, tsbpfMedian: tm, ratio: tm / cm };
}

/** Runs a command; resolves to its stdout (rejects with stderr on failure). */
export function run(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 1 << 26, ...options }, (error, stdout, stderr) => {
      if (error) {
        const detail = String(stderr || stdout || error.message)
          .trim()
          .split('\n')
          .slice(-6)
          .join('\n');
        reject(new Error(`${[cmd, ...args].join(' ')} failed:\n${detail}`));
      } else resolve(stdout);
    });
  });
}

/** Runs a command whose last stdout line is JSON; resolves to the parsed object. */
export async function runJson(cmd, args, options = {}) {
  const out = (await run(cmd, args, options)).trim().split('\n');
  return JSON.parse(out[out.length - 1] ?? '{}');
}

/** Wall time of a command in milliseconds. */
export async function timeCommand(cmd, args, options = {}) {
  const t0 = performance.now();
  await run(cmd, args, options);
  return performance.now() - t0;
}

/** Rounds for display: 3 significant digits. */
export function round(x) {
  if (typeof x !== 'number' || !Number.isFinite(x)) return x;
  if (x === 0) return 0;
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(x))));
  return Number(x.toFixed(Math.min(digits, 6)));
}
