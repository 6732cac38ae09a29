// decode_ratio_vs_handwritten, run in its own process: decodes the same buffer of `struct record`
// (bench/c/record.bpf.c, 104 bytes) with the codec tsbpf's codegen generated and with the
// DataView decoder below, written the way a developer would by hand, alternating rounds.
// Usage: node decode-bench.js <generated-codec-module> <rounds>
import { pathToFileURL } from 'node:url';

const [codecModule, roundsArg] = process.argv.slice(2);
const { BenchCodec: Record } = await import(pathToFileURL(codecModule).href);
const SIZE = 104;
const COUNT = 20000;

const utf8 = new TextDecoder();
/** A hand-written decoder for struct record: one DataView, one getter per field. */
function decodeByHand(bytes, o) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const commEnd = bytes.indexOf(0, o + 80);
  return {
    ts: v.getBigUint64(o, true),
    cookie: v.getBigUint64(o + 8, true),
    pid: v.getUint32(o + 16, true),
    tid: v.getUint32(o + 20, true),
    uid: v.getUint32(o + 24, true),
    gid: v.getUint32(o + 28, true),
    ret: v.getInt32(o + 32, true),
    flags: v.getUint32(o + 36, true),
    saddr: v.getUint32(o + 40, true),
    daddr: v.getUint32(o + 44, true),
    sport: v.getUint16(o + 48, true),
    dport: v.getUint16(o + 50, true),
    proto: v.getUint8(o + 52),
    state: v.getUint8(o + 53),
    family: v.getUint16(o + 54, true),
    bytes_in: v.getBigUint64(o + 56, true),
    bytes_out: v.getBigUint64(o + 64, true),
    duration_ns: v.getBigUint64(o + 72, true),
    comm: utf8.decode(bytes.subarray(o + 80, commEnd < 0 || commEnd > o + 96 ? o + 96 : commEnd)),
    cpu: v.getUint32(o + 96, true),
    cgroup: v.getUint32(o + 100, true),
  };
}

if (Record.size !== SIZE) throw new Error(`generated codec is ${Record.size} bytes, expected ${SIZE}`);
const buffer = new Uint8Array(SIZE * COUNT);
const view = new DataView(buffer.buffer);
const names = ['node', 'bash', 'sshd', 'systemd-journal', 'curl'];
for (let i = 0; i < COUNT; i++) {
  const o = i * SIZE;
  for (let f = 0; f < 80; f += 4) view.setUint32(o + f, (i * 2654435761 + f) >>> 0, true);
  buffer.set(new TextEncoder().encode(names[i % names.length].slice(0, 15)), o + 80);
  view.setUint32(o + 96, i % 2, true);
  view.setUint32(o + 100, i, true);
}

// Same answers first: a benchmark of two decoders that disagree would mean nothing.
for (let i = 0; i < COUNT; i += 997) {
  const g = Record.decode(buffer, i * SIZE);
  const h = decodeByHand(buffer, i * SIZE);
  if (
    g.pid !== h.pid ||
    g.ts !== h.ts ||
    g.comm !== h.comm ||
    g.cgroup !== h.cgroup ||
    g.bytes_out !== h.bytes_out
  ) {
    throw new Error(
      `decoders disagree at record ${i}: ${JSON.stringify([g, h], (_k, x) => (typeof x === 'bigint' ? `${x}` : x))}`,
    );
  }
}

let sink = 0;
function pass(decode) {
  const t0 = performance.now();
  for (let i = 0; i < COUNT; i++) {
    const r = decode(buffer, i * SIZE);
    sink += r.pid + r.comm.length + r.cgroup;
  }
  return COUNT / ((performance.now() - t0) / 1000);
}
const generated = (b, o) => Record.decode(b, o);
for (let i = 0; i < 30; i++) {
  pass(generated);
  pass(decodeByHand);
}
const gen = [];
const hand = [];
for (let r = 0; r < Number(roundsArg); r++) {
  gen.push(pass(generated));
  hand.push(pass(decodeByHand));
}
process.stdout.write(`${JSON.stringify({ generated: gen, handwritten: hand, sink })}\n`);
