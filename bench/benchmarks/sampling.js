// profile_overhead_99hz: what sampling costs the program sampled. The CPU time of a C loop of fixed length
// (test/fixtures/profile/workload.c `work`) is timed alone and while examples/profile's BPF program
// samples every CPU at 99 Hz with kernel and user stacks (bench/lib/sampling-ts.js), alternately in
// one process; the figure is profiled / unprofiled - 1 of the medians (0.01 = 1% slower).
// profile_sample_ns: the BPF program's mean run time per sample (kernel.bpf_stats_enabled), the
// part of that cost which a noisy VM cannot hide.
import { join } from 'node:path';
import { bpfObject, outDir, repoRoot } from '../lib/build.js';
import { run, runJson } from '../lib/harness.js';

export async function measure({ quick }) {
  const object = await bpfObject('profile', { source: join(repoRoot, 'examples/profile/profile.bpf.c') });
  const workload = join(outDir, 'workload');
  await run('gcc', [
    '-O1',
    '-fno-omit-frame-pointer',
    '-o',
    workload,
    join(repoRoot, 'test/fixtures/profile/workload.c'),
  ]);
  const script = new URL('../lib/sampling-ts.js', import.meta.url).pathname;
  const r = await runJson(process.execPath, [
    script,
    object,
    workload,
    quick ? '5' : '11',
    quick ? '300' : '1000',
  ]);
  return {
    figures: { profile_overhead_99hz: r.overhead, profile_sample_ns: r.sample_ns },
    details: { profile_overhead: r },
  };
}
