// The tsbpf side of profile_overhead_99hz: <runs> pairs of `workload work <millions>`, one alone and
// one with the profile program attached to cpu-clock at 99 Hz on every CPU, taking turns so that
// drift in the machine's load hits both alike.
// Usage: node sampling-ts.js <profile.o> <workload> <runs> <millions>
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { CollectionSpec } from 'tsbpf';

const [objectPath, workload, runs, millions] = process.argv.slice(2);
const collection = await CollectionSpec.fromBytes(new Uint8Array(readFileSync(objectPath)), {
  name: 'profile',
}).load();
const program = collection.program('sample');
const work = () => Number(execFileSync(workload, ['work', millions], { encoding: 'utf8' }));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// kernel.bpf_stats_enabled makes the kernel time every run of every program: the cost of one sample
// in the BPF program itself, which the loop's CPU time is too noisy on a VM to show.
const statsPath = '/proc/sys/kernel/bpf_stats_enabled';
const statsBefore = readFileSync(statsPath, 'utf8').trim();
writeFileSync(statsPath, '1');

const alone = [];
const sampled = [];
let samples = 0n;
work(); // warm the page cache and the CPU's clocks
for (let i = 0; i < Number(runs); i++) {
  alone.push(work());
  const link = program.attachPerfEvent({ event: 'cpu-clock', frequency: 99 });
  sampled.push(work());
  link.close();
}
for (const key of collection.map('counts').keys()) {
  samples += new DataView(collection.map('counts').lookup(key).buffer).getBigUint64(0, true);
}
const [info] = JSON.parse(execFileSync('bpftool', ['prog', 'show', '--json'], { encoding: 'utf8' }))
  .filter((p) => p.type === 'perf_event' && p.name === 'sample')
  .sort((a, b) => b.id - a.id);
writeFileSync(statsPath, statsBefore);
collection.close();
const sampleNs = info?.run_cnt ? info.run_time_ns / info.run_cnt : undefined;
const overhead = median(sampled) / median(alone) - 1;
process.stdout.write(
  `${JSON.stringify({
    overhead,
    alone_ms: median(alone),
    sampled_ms: median(sampled),
    runs: alone.length,
    samples: Number(samples),
    // The program's mean run time per sample, and what it costs a CPU at 99 samples a second.
    sample_ns: sampleNs,
    program_cpu_share_99hz: sampleNs === undefined ? undefined : (sampleNs * 99) / 1e9,
  })}\n`,
);
