// The tsbpf side of profile_overhead_99hz: <runs> pairs of `workload work <millions>`, one alone and
// one with the profile program attached to cpu-clock at 99 Hz on every CPU, taking turns so that
// drift in the machine's load hits both alike.
// Usage: node sampling-ts.js <profile.o> <workload> <runs> <millions>
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CollectionSpec } from 'tsbpf';

const [objectPath, workload, runs, millions] = process.argv.slice(2);
const collection = await CollectionSpec.fromBytes(new Uint8Array(readFileSync(objectPath)), {
  name: 'profile',
}).load();
const program = collection.program('sample');
const work = () => Number(execFileSync(workload, ['work', millions], { encoding: 'utf8' }));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

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
collection.close();
const overhead = median(sampled) / median(alone) - 1;
process.stdout.write(
  `${JSON.stringify({ overhead, alone_ms: median(alone), sampled_ms: median(sampled), runs: alone.length, samples: Number(samples) })}\n`,
);
