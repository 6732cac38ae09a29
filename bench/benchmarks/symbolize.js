// symbolize_*: tsbpf/symbolize turning 10 000 stack addresses into names, against a C program
// doing the same with qsort/bsearch and libelf (bench/c/symbolize.c), each side in a fresh process.
// Cold: the first 10 000 (reading /proc/kallsyms or the ELF file included); warm: the same again.
// Kernel addresses are spread over the kernel's text; user ones over libc's and node's text in a
// sleeping node process (node's binary: 100 MB, 78 000 function symbols).
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cBinary, outDir } from '../lib/build.js';
import { median, runJson, sideBySide } from '../lib/harness.js';

const COUNT = 10_000;

/** COUNT addresses spread over [start, end), the same every run (a fixed linear congruential sequence). */
function spread(start, end) {
  const span = Number(end - start);
  let x = 12345;
  const out = [];
  for (let i = 0; i < COUNT; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    out.push((start + BigInt(Math.floor((x / 2 ** 31) * span))).toString(16));
  }
  return out.join('\n');
}

function kernelText() {
  const at = (name) => {
    const line = readFileSync('/proc/kallsyms', 'latin1')
      .split('\n')
      .find((l) => l.endsWith(` ${name}`));
    if (!line || line.startsWith('0000000000000000')) throw new Error(`kallsyms hides ${name}: run as root`);
    return BigInt(`0x${line.slice(0, 16)}`);
  };
  return [at('_stext'), at('_etext')];
}

function textOf(pid, pattern) {
  const line = readFileSync(`/proc/${pid}/maps`, 'utf8')
    .split('\n')
    .find((l) => / r-xp /.test(l) && pattern.test(l));
  if (!line) throw new Error(`no executable mapping matching ${pattern} in process ${pid}`);
  const [start, end] = line.split(' ')[0].split('-');
  return [BigInt(`0x${start}`), BigInt(`0x${end}`)];
}

export async function measure({ quick }) {
  const c = await cBinary('symbolize', [], ['-lelf']);
  const script = new URL('../lib/symbolize-ts.js', import.meta.url).pathname;
  const reps = quick ? 3 : 7;
  const target = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const files = {
      kernel: kernelText(),
      libc: textOf(target.pid, /\/libc\.so\.6$/),
      node: textOf(target.pid, new RegExp(`${process.execPath}$`)),
    };
    const results = {};
    for (const [name, [start, end]] of Object.entries(files)) {
      const addrs = join(outDir, `symbolize-${name}.txt`);
      writeFileSync(addrs, spread(start, end));
      const side = name === 'kernel' ? ['kernel', addrs] : ['user', String(target.pid), addrs];
      results[name] = await sideBySide({
        reps,
        baseline: async () => {
          const r = await runJson(c, side);
          return { ...r, value: r.cold_ms };
        },
        tsbpf: async () => {
          const r = await runJson(process.execPath, [script, ...side]);
          return { ...r, value: r.cold_ms };
        },
      });
    }
    const warm = (r, side) => median(r[side].map((s) => s.warm_ms));
    const figures = {
      symbolize_kernel_cold_ms: results.kernel.tsbpfMedian,
      symbolize_kernel_warm_ms: warm(results.kernel, 'tsbpf'),
      symbolize_kernel_ratio_vs_c: results.kernel.ratio,
      symbolize_user_cold_ms: results.libc.tsbpfMedian,
      symbolize_user_warm_ms: warm(results.libc, 'tsbpf'),
      symbolize_user_ratio_vs_c: results.libc.ratio,
    };
    const detail = (r) => ({
      cold_ms: { tsbpf: r.tsbpfMedian, c: r.baselineMedian },
      warm_ms: { tsbpf: warm(r, 'tsbpf'), c: warm(r, 'baseline') },
      named: { tsbpf: r.tsbpf[0].named, c: r.baseline[0].named, of: COUNT },
    });
    return {
      figures,
      details: {
        symbolize: {
          kernel: {
            ...detail(results.kernel),
            search_only_ms: {
              hi_lo_u32: median(results.kernel.tsbpf.map((s) => s.search_only_ms.hi_lo_u32)),
              biguint64array: median(results.kernel.tsbpf.map((s) => s.search_only_ms.biguint64array)),
            },
          },
          user_libc: detail(results.libc),
          user_node_binary: detail(results.node),
        },
      },
    };
  } finally {
    target.kill('SIGKILL');
  }
}
