// ringbuf_ratio_vs_c and perf_ratio_vs_c, plus the events/s-against-size sweep for the plot.
// Consumers: bench/c/consume.c (libbpf) and bench/lib/consume-ts.js (tsbpf), same object and
// producer; see consume.c for the two modes (drain = reader capacity, stream = live producer).
// The headline figures read events in place (reader.consume() with the generated view); the
// *_objects_* figures take decoded objects (readAvailable()), what `for await` costs; the
// *_objects_number_* ones the same with `ts` (a u64) decoded as a number (fieldAs "number"); the
// *_objects_scalars_* ones decoded objects of a 32-byte event without its byte array (-DSCALARS).
import { join } from 'node:path';
import { bpfObject, cBinary, outDir } from '../lib/build.js';
import { generateCodec } from '../lib/codegen.js';
import { median, runJson, sideBySide } from '../lib/harness.js';

const RING_BYTES = 1 << 24; // max_entries of rb in producer.bpf.c
const BATCH = 64; // events per program run (producer.bpf.c)
const PERF_PAGES = 4096; // per-CPU perf ring in drain mode: 16 MiB, as large as the ring buffer

/** The codecs' field choices: `number` decodes the event's u64 ts as a number, not a bigint. */
const FIELD_AS = { number: { 'event.ts': 'number' } };

async function prepare(size, fieldAs, scalars = false) {
  const variant = scalars ? '-scalars' : '';
  const object = await bpfObject('producer', {
    outName: `producer${size}${variant}`,
    defines: [`EVENT_SIZE=${size}`, ...(scalars ? ['SCALARS'] : [])],
  });
  const codec = join(outDir, `event${size}${variant}${fieldAs ? `-${fieldAs}` : ''}.js`);
  await generateCodec(object, 'struct event', codec, FIELD_AS[fieldAs]);
  return { object, codec };
}

/** Program runs that fill ~70% of the buffer (8-byte ring header; 8+4 perf header, 8-aligned). */
function drainRuns(kind, size) {
  const record = kind === 'ringbuf' ? size + 8 : Math.ceil((size + 12) / 8) * 8;
  const capacity = kind === 'ringbuf' ? RING_BYTES : PERF_PAGES * 4096;
  return Math.max(1, Math.floor((0.7 * capacity) / record / BATCH));
}

/**
 * Rounds at `size` that read as many events as `rounds` at 32 bytes: at 1 KiB a full buffer holds
 * 26 times fewer events, and a few rounds would time mostly the JIT's warm-up.
 */
const roundsFor = (kind, size, rounds) => Math.ceil((rounds * drainRuns(kind, 32)) / drainRuns(kind, size));

/** The environment of a tsbpf consumer using `api` (consume-ts.js). */
const apiEnv = (api) => ({ env: { ...process.env, TSBPF_BENCH_API: api } });

/** `api` as consume-ts.js takes it; `fieldAs` a key of FIELD_AS; `scalars` the event without payload. */
async function drainPair(
  kind,
  size,
  rounds,
  reps,
  tools,
  { api = 'consume', fieldAs, scalars = false } = {},
) {
  const { object, codec } = await prepare(size, fieldAs, scalars);
  const runs = String(drainRuns(kind, size));
  const pages = String(PERF_PAGES);
  // CPU time too: on a busy machine the wall time also counts time spent waiting for a core.
  const sample = (r) => ({ ...r, value: r.rate, cpu_rate: r.events / r.cpu_seconds });
  return sideBySide({
    reps,
    baseline: async () =>
      sample(await runJson(tools.consume, [kind, object, 'drain', String(rounds), runs, pages])),
    tsbpf: async () =>
      sample(
        await runJson(
          process.execPath,
          [tools.consumeTs, kind, object, codec, 'drain', String(rounds), runs, pages],
          apiEnv(api),
        ),
      ),
  });
}

async function streamPair(kind, size, seconds, reps, tools, api = 'consume') {
  const { object, codec } = await prepare(size);
  const sample = (r) => ({ ...r, value: r.rate });
  return sideBySide({
    reps,
    baseline: async () =>
      sample(await runJson(tools.consume, [kind, object, 'stream', String(seconds), tools.producer])),
    tsbpf: async () =>
      sample(
        await runJson(
          process.execPath,
          [tools.consumeTs, kind, object, codec, 'stream', String(seconds), tools.producer],
          apiEnv(api),
        ),
      ),
  });
}

const sum = (samples, key) => samples.reduce((a, s) => a + (s[key] ?? 0), 0);

function summary(pair) {
  const cpu = (side) => median(side.map((s) => s.cpu_rate ?? Number.NaN));
  return {
    ratio: pair.ratio,
    ...(pair.baseline[0]?.cpu_rate === undefined
      ? {}
      : {
          cpu_ratio: cpu(pair.tsbpf) / cpu(pair.baseline),
          c_events_per_cpu_s: cpu(pair.baseline),
          tsbpf_events_per_cpu_s: cpu(pair.tsbpf),
        }),
    c_events_per_s: pair.baselineMedian,
    tsbpf_events_per_s: pair.tsbpfMedian,
    c_dropped: sum(pair.baseline, 'dropped'),
    tsbpf_dropped: sum(pair.tsbpf, 'dropped'),
    c_lost: sum(pair.baseline, 'lost'),
    tsbpf_lost: sum(pair.tsbpf, 'lost'),
    c_events: sum(pair.baseline, 'events'),
    tsbpf_events: sum(pair.tsbpf, 'events'),
  };
}

export async function measure({ quick, tools: baseTools }) {
  const tools = {
    ...baseTools,
    consume: await cBinary('consume'),
    producer: await cBinary('producer'),
    consumeTs: new URL('../lib/consume-ts.js', import.meta.url).pathname,
  };
  const reps = quick ? 2 : 3;
  const out = { figures: {}, details: {} };

  // Rounds of draining a ~70% full buffer: enough that the first, run before the JIT has
  // optimised the reader, does not dominate.
  const rounds = quick ? 4 : 8;
  // One set of figures per buffer kind. A full ring buffer only makes bpf_ringbuf_output fail
  // (dropped, counted by the program); a full perf ring also bumps the kernel's lost count the
  // reader reports, for the same events, so perf takes the reader's count.
  const pairs = {};
  for (const [kind, lostKey] of [
    ['ringbuf', 'dropped'],
    ['perf', 'lost'],
  ]) {
    const drain = await drainPair(kind, 32, rounds, reps, tools);
    const objects = await drainPair(kind, 32, rounds, reps, tools, { api: 'objects' });
    const numbers = await drainPair(kind, 32, rounds, reps, tools, { api: 'objects', fieldAs: 'number' });
    const scalars = await drainPair(kind, 32, rounds, reps, tools, { api: 'objects', scalars: true });
    const scalarNumbers = await drainPair(kind, 32, rounds, reps, tools, {
      api: 'objects',
      fieldAs: 'number',
      scalars: true,
    });
    const stream = await streamPair(kind, 32, 1, reps, tools);
    pairs[kind] = { drain, objects };
    out.figures[`${kind}_ratio_vs_c`] = drain.ratio;
    out.figures[`${kind}_objects_ratio_vs_c`] = objects.ratio;
    out.figures[`${kind}_objects_number_ratio_vs_c`] = numbers.ratio;
    out.figures[`${kind}_objects_scalars_ratio_vs_c`] = scalars.ratio;
    out.figures[`${kind}_objects_scalars_number_ratio_vs_c`] = scalarNumbers.ratio;
    out.figures[`${kind}_stream_ratio_vs_c`] = stream.ratio;
    out.figures[`${kind}_lost_events`] = {
      c: sum(stream.baseline, lostKey),
      tsbpf: sum(stream.tsbpf, lostKey),
    };
    out.details[kind] = {
      drain: summary(drain),
      drain_objects: summary(objects),
      drain_objects_number: summary(numbers),
      drain_objects_scalars: summary(scalars),
      drain_objects_scalars_number: summary(scalarNumbers),
      stream: summary(stream),
    };
  }

  const sizes = quick ? [32, 128, 512] : [32, 64, 128, 256, 512, 1024];
  out.details.ringbuf_by_size = [];
  for (const size of sizes) {
    const sized = roundsFor('ringbuf', size, 4);
    const pair = size === 32 ? pairs.ringbuf.drain : await drainPair('ringbuf', size, sized, 2, tools);
    const objects =
      size === 32
        ? pairs.ringbuf.objects
        : await drainPair('ringbuf', size, sized, 2, tools, { api: 'objects' });
    out.details.ringbuf_by_size.push({
      size,
      c: pair.baselineMedian,
      tsbpf: pair.tsbpfMedian,
      ratio: pair.ratio,
      tsbpf_objects: objects.tsbpfMedian,
      objects_ratio: objects.tsbpfMedian / pair.baselineMedian,
    });
  }
  return out;
}
