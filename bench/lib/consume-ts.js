// The tsbpf side of the ring buffer and perf buffer benchmarks, run as its own process like the C
// consumer (bench/c/consume.c, which describes the two modes) and printing the same JSON line.
// Events are decoded by the codec tsbpf's codegen generated for `struct event`.
// Usage: node consume-ts.js ringbuf|perf <object.o> <codec-module> stream <seconds> <producer> [pages]
//        node consume-ts.js ringbuf|perf <object.o> <codec-module> drain <rounds> <runs> [pages]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { CollectionSpec, PerfEventArray, RingBuf } from 'tsbpf';
import { startProfile, stopProfile } from './profile.js';

const [kind, objectPath, codecModule, mode, a, b, pagesArg] = process.argv.slice(2);
const ring = kind === 'ringbuf';
const pageCount = Number(pagesArg ?? 64);
const { BenchCodec: Event } = await import(pathToFileURL(codecModule).href);

const spec = CollectionSpec.fromBytes(new Uint8Array(readFileSync(objectPath)), { name: 'producer' });
spec.programs.get(ring ? 'produce_perf' : 'produce_ringbuf').autoload = false;
const coll = await spec.load();
const prog = coll.program(ring ? 'produce_ringbuf' : 'produce_perf');
const reader = ring
  ? new RingBuf(coll.map('rb'), Event).reader()
  : new PerfEventArray(coll.map('perf'), Event).reader(undefined, { pageCount });

let events = 0;
let checksum = 0;

/** What a user's loop does with each event: read two fields (the C side sums the same two). */
function take(batch) {
  for (const e of batch) checksum += e.seq + e.flags;
  events += batch.length;
}

const result = mode === 'drain' ? await drain(Number(a), Number(b)) : await stream(a, b);

async function drain(rounds, runs) {
  const data = new Uint8Array(64);
  let total = 0;
  for (let r = 0; r < rounds; r++) {
    prog.testRun({ data, repeat: runs });
    // Profile the reading only: SIGPROF ticks would interrupt test runs and program loads.
    if (r === 0) await startProfile();
    const t0 = performance.now();
    for (;;) {
      const batch = reader.readAvailable(4096);
      if (batch.length === 0) break;
      take(batch);
    }
    total += performance.now() - t0;
  }
  await stopProfile();
  return { seconds: total / 1000 };
}

async function stream(seconds, producer) {
  let first = 0;
  let last = 0;
  let producerOk = false;
  const child = spawn(producer, [seconds], { stdio: ['ignore', 'ignore', 'inherit', prog.fd] });
  child.on('exit', (code) => {
    producerOk = code === 0;
    // The producer is done: take what is left, then end the iteration below.
    const t0 = performance.now();
    for (;;) {
      const rest = reader.readAvailable(4096);
      if (rest.length === 0) break;
      take(rest);
      last = performance.now();
      if (first === 0) first = t0;
    }
    reader.close();
  });
  let t0 = performance.now();
  for await (const batch of reader.batches()) {
    take(batch);
    last = performance.now();
    if (first === 0) first = t0;
    t0 = last;
  }
  return { seconds: (last - first) / 1000, producer_ok: producerOk };
}

const stats = coll.map('stats');
const sum = (slot) => {
  const v = stats.lookup(new Uint8Array(new Uint32Array([slot]).buffer));
  return v ? new BigUint64Array(v.buffer, v.byteOffset, v.byteLength / 8).reduce((x, y) => x + y, 0n) : 0n;
};
process.stdout.write(
  `${JSON.stringify({
    events,
    seconds: result.seconds,
    rate: events / result.seconds,
    emitted: Number(sum(0)),
    dropped: Number(sum(1)),
    lost: reader.lost,
    checksum: checksum.toString(),
    ...(result.producer_ok === undefined ? {} : { producer_ok: result.producer_ok }),
  })}\n`,
);
reader.close();
coll.close();
