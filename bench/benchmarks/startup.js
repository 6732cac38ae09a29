// cli_start_ms (`node dist/cli.js --help`, wall time of a fresh process) and vmlinux_btf_parse_ms
// (readKernelBtf() of /sys/kernel/btf/vmlinux from dist/btf, timed inside a fresh process so the
// figure is the cold parse a `tsbpf` command pays). Medians; no baseline, these are absolute.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../lib/build.js';
import { median, runJson, timeCommand } from '../lib/harness.js';

export async function measureCli({ quick }) {
  const cli = join(repoRoot, 'dist', 'cli.js');
  if (!existsSync(cli)) throw new Error('dist/cli.js is missing');
  const times = [];
  await timeCommand(process.execPath, [cli, '--help']);
  for (let i = 0; i < (quick ? 5 : 11); i++) times.push(await timeCommand(process.execPath, [cli, '--help']));
  // A bare `node -e 0` for scale: what any Node CLI pays before its first line runs.
  const bare = [];
  for (let i = 0; i < 5; i++) bare.push(await timeCommand(process.execPath, ['-e', '0']));
  return {
    figures: { cli_start_ms: median(times) },
    details: { cli_start: { runs_ms: times, node_bare_ms: median(bare) } },
  };
}

export async function measureBtf({ quick }) {
  const module = join(repoRoot, 'dist', 'btf', 'index.js');
  if (!existsSync(module)) throw new Error('dist/btf/index.js is missing');
  const code = `const t0 = performance.now(); const m = await import(${JSON.stringify(module)}); const t1 = performance.now();
const btf = m.readKernelBtf(); const t2 = performance.now();
let named = 0; for (const t of btf.types()) if (t.name) named++; const t3 = performance.now();
console.log(JSON.stringify({ import_ms: t1 - t0, parse_ms: t2 - t1, walk_ms: t3 - t2, types: btf.count, named }));`;
  const runs = [];
  for (let i = 0; i < (quick ? 3 : 7); i++)
    runs.push(await runJson(process.execPath, ['--input-type=module', '-e', code]));
  return {
    figures: { vmlinux_btf_parse_ms: median(runs.map((r) => r.parse_ms)) },
    details: {
      vmlinux_btf: {
        parse_ms: runs.map((r) => r.parse_ms),
        walk_all_types_ms: median(runs.map((r) => r.walk_ms)),
        types: runs[0]?.types,
      },
    },
  };
}
