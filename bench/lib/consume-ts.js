// The tsbpf side of the ring buffer and perf buffer benchmarks, run as its own process like the C
// consumer (bench/c/consume.c, which describes the two modes) and printing the same JSON line.
// Events are read with the codec tsbpf's codegen generated for `struct event`, through one of the
// readers' two APIs (TSBPF_BENCH_API): `consume` (the default) reads each event in place through
// the generated EventView, `objects` takes decoded Event objects from readAvailable()/batches().
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
const inPlace = (process.env.TSBPF_BENCH_API ?? 'consume') === 'consume';
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
// Decoded objects are taken as the iterators (batches(), for await) take them: at most 256 a step.
const OBJECTS_BATCH = 256;

/** What a user's loop does with each event: read two fields (the C side sums the same two). */
function take(batch) {
  for (const e of batch) checksum += e.seq + e.flags;
  events += batch.length;
}
const onEvent = (e) => {
  checksum += e.seq + e.flags;
};

/** Reads what is there now; the number of events. */
function readNow() {
  if (inPlace) {
    const n = reader.consume(onEvent);
    events += n;
    return n;
  }
  const batch = reader.readAvailable(OBJECTS_BATCH);
  take(batch);
  return batch.length;
}

const result = mode === 'drain' ? await drain(Number(a), Number(b)) : await stream(a, b);

async function drain(rounds, runs) {
  const data = new Uint8Array(64);
  let total = 0;
  let cpu = 0; // process CPU time, as the C side's CLOCK_PROCESS_CPUTIME_ID
  // Round 0 warms up, as on the C side, and is not counted.
  for (let r = 0; r <= rounds; r++) {
    prog.testRun({ data, repeat: runs });
    // Profile the last round's reading only: SIGPROF ticks would interrupt test runs and program
    // loads, and the rounds before it warm the JIT up.
    if (r === rounds) await startProfile();
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    while (readNow() > 0);
    if (r === 0) {
      events = 0;
      checksum = 0;
    } else {
      total += performance.now() - t0;
      const used = process.cpuUsage(c0);
      cpu += used.user + used.system;
    }
  }
  await stopProfile();
  return { seconds: total / 1000, cpu_seconds: cpu / 1e6 };
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
    while (readNow() > 0) {
      last = performance.now();
      if (first === 0) first = t0;
    }
    reader.close();
  });
  let t0 = performance.now();
  const arrived = () => {
    last = performance.now();
    if (first === 0) first = t0;
    t0 = last;
  };
  if (inPlace) {
    for (;;) {
      const n = await reader.poll(onEvent);
      if (n === 0) break;
      events += n;
      arrived();
    }
  } else {
    for await (const batch of reader.batches()) {
      take(batch);
      arrived();
    }
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
    ...(result.cpu_seconds === undefined ? {} : { cpu_seconds: result.cpu_seconds }),
    emitted: Number(sum(0)),
    dropped: Number(sum(1)),
    lost: reader.lost,
    checksum: checksum.toString(),
    ...(result.producer_ok === undefined ? {} : { producer_ok: result.producer_ok }),
  })}\n`,
);
reader.close();
coll.close();
