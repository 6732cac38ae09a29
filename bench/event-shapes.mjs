// What each part of a decoded event costs in this Node: 256 events of the bench's 32-byte
// `struct event` (u64 ts, four u32, u8 payload[8]) decoded into objects the way generated codecs
// do, then read as the bench's consumer reads them (seq + flags), in CPU ns per event. Shapes differ
// only in ts (bigint or number) and payload (left out, a Uint8Array copy as generated, a view on a
// copy of the batch, or a number[]). docs/performance.md ("Decoded events") uses it to show why a
// third of C's speed is out of reach for an event with a byte array.
// Usage: node bench/event-shapes.mjs [rounds]   (under each Node to compare them; medians of 5 runs)
const COUNT = 256;
const SIZE = 32;
const rounds = Number(process.argv[2] ?? 40000);
const ring = new Uint8Array(COUNT * SIZE);
for (let i = 0; i < ring.length; i++) ring[i] = (i * 7) & 255;

/** The generated codecs' copy of a short byte array (copyBytes in src/runtime). */
function copy8(b, at) {
  const out = new Uint8Array(8);
  for (let i = 0; i < 8; i++) out[i] = b[at + i];
  return out;
}
const u64AsNumber = (v, o) => v.getUint32(o + 4, true) * 2 ** 32 + v.getUint32(o, true);

const shapes = {
  'integers, ts a bigint': (v, _b, o) => ({
    ts: v.getBigUint64(o, true),
    seq: v.getUint32(o + 8, true),
    cpu: v.getUint32(o + 12, true),
    pid: v.getUint32(o + 16, true),
    flags: v.getUint32(o + 20, true),
  }),
  'integers, ts a number': (v, _b, o) => ({
    ts: u64AsNumber(v, o),
    seq: v.getUint32(o + 8, true),
    cpu: v.getUint32(o + 12, true),
    pid: v.getUint32(o + 16, true),
    flags: v.getUint32(o + 20, true),
  }),
  'ts a number, payload a Uint8Array copy (as generated)': (v, b, o) => ({
    ts: u64AsNumber(v, o),
    seq: v.getUint32(o + 8, true),
    cpu: v.getUint32(o + 12, true),
    pid: v.getUint32(o + 16, true),
    flags: v.getUint32(o + 20, true),
    payload: copy8(b, o + 24),
  }),
  'ts a number, payload a view on the batch copy': (v, b, o) => ({
    ts: u64AsNumber(v, o),
    seq: v.getUint32(o + 8, true),
    cpu: v.getUint32(o + 12, true),
    pid: v.getUint32(o + 16, true),
    flags: v.getUint32(o + 20, true),
    payload: new Uint8Array(b.buffer, b.byteOffset + o + 24, 8),
  }),
  'ts a number, payload a number[]': (v, b, o) => ({
    ts: u64AsNumber(v, o),
    seq: v.getUint32(o + 8, true),
    cpu: v.getUint32(o + 12, true),
    pid: v.getUint32(o + 16, true),
    flags: v.getUint32(o + 20, true),
    payload: [b[o + 24], b[o + 25], b[o + 26], b[o + 27], b[o + 28], b[o + 29], b[o + 30], b[o + 31]],
  }),
};

// Readers decode straight from the ring's pages; only the view shape needs the batch copied out
// first (the ring's bytes are reused), and that copy is part of its cost.
const copiesBatch = new Set(['ts a number, payload a view on the batch copy']);

let checksum = 0;
function measure(decode, copy) {
  const batch = () => {
    const b = copy ? ring.slice() : ring;
    const v = new DataView(b.buffer);
    const events = new Array(COUNT);
    for (let i = 0; i < COUNT; i++) events[i] = decode(v, b, i * SIZE);
    for (const e of events) checksum += e.seq + e.flags;
  };
  for (let i = 0; i < rounds / 20; i++) batch();
  const start = process.cpuUsage();
  for (let i = 0; i < rounds; i++) batch();
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / (rounds * COUNT);
}

const names = Object.keys(shapes);
const only = process.argv[3];
if (only !== undefined) {
  const name = names[Number(only)];
  process.stdout.write(`${measure(shapes[name], copiesBatch.has(name)).toFixed(1)}\n`);
  if (checksum === 0) process.exitCode = 1;
} else {
  // Each shape in a process of its own, so no shape's type feedback slows another.
  const { execFileSync } = await import('node:child_process');
  const script = new URL(import.meta.url).pathname;
  // Five processes a shape, the shapes taken in turn; the median and the range of the five.
  const runs = names.map(() => []);
  for (let r = 0; r < 5; r++) {
    names.forEach((_, i) => {
      const ns = execFileSync(process.execPath, [script, String(rounds), String(i)], { encoding: 'utf8' });
      runs[i].push(Number(ns));
    });
  }
  console.log(
    `Node ${process.versions.node} (V8 ${process.versions.v8}), CPU ns per event, ${rounds} x ${COUNT}:`,
  );
  names.forEach((name, i) => {
    const [low, , median, , high] = runs[i].sort((a, b) => a - b);
    console.log(`  ${median.toFixed(1).padStart(6)}  (${low.toFixed(1)}-${high.toFixed(1)})  ${name}`);
  });
}
