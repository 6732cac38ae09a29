// tsbpf side of the scrape benchmark; the same work as bench/c/scrape.c through tsbpf/metrics:
// a counter over HashMap<number, {syscalls, comm}> labelled by pid and comm (every entry its
// own series: maxSeries = n), rendered by prom-client's registry as a scrape would.
// Usage: node scrape-ts.js <object.o> <n> <scrapes>
import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { CollectionSpec, cstring, HashMap, u32, u64 } from 'tsbpf';
import { registerMapMetrics } from 'tsbpf/metrics';
import { startProfile, stopProfile } from './profile.js';

const [objectPath, nArg, scrapesArg] = process.argv.slice(2);
const n = Number(nArg);
const scrapes = Number(scrapesArg);
const coll = await CollectionSpec.fromBytes(new Uint8Array(readFileSync(objectPath)), {
  name: 'scrape',
}).load();

// struct proc_stats { __u64 syscalls; char comm[16]; }, as a generated codec would read it.
const comm = cstring(16);
const procStats = {
  size: 24,
  decode: (b, o = 0) => ({ syscalls: u64.decode(b, o), comm: comm.decode(b, o + 8) }),
  encode(v) {
    const b = new Uint8Array(24);
    this.encodeInto(v, b, 0);
    return b;
  },
  encodeInto(v, b, o = 0) {
    u64.encodeInto(v.syscalls, b, o);
    comm.encodeInto(v.comm, b, o + 8);
  },
};
const counts = new HashMap(coll.map('counts'), u32, procStats);
counts.setBatch(
  Array.from({ length: n }, (_, i) => [i + 1, { syscalls: BigInt(i) * 7n, comm: `proc${i % 500}` }]),
);

const registry = registerMapMetrics(new Registry(), [
  {
    kind: 'counter',
    name: 'sysstats_syscalls_total',
    help: 'System calls.',
    map: counts,
    labelNames: ['pid', 'comm'],
    labels: (pid, v) => ({ pid, comm: v.comm }),
    value: (v) => v.syscalls,
    maxSeries: n,
  },
]);

let bytes = 0;
let t0 = performance.now();
// Scrape 0 warms the JIT up and is not timed, as on the C side.
for (let s = 0; s <= scrapes; s++) {
  if (s === 1) {
    await startProfile();
    t0 = performance.now();
  }
  bytes = (await registry.metrics()).length;
}
const seconds = (performance.now() - t0) / 1000;
await stopProfile();
process.stdout.write(`${JSON.stringify({ scrapes, seconds, rate: scrapes / seconds, bytes })}\n`);
coll.close();
