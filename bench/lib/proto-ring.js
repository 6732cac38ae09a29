// A prototype, not tsbpf's API: the ring buffer read the way readers.ts reads it (mmap, walk the
// records in JavaScript; layout from kernel/bpf/ringbuf.c), but decoding each record with the
// generated decodeX(view, bytes, offset) over one DataView of the whole ring, so an event costs
// only its decoded object. It measures what suggestion 2 of docs/performance.md would gain, in
// drain mode like consume-ts.js, and prints the same JSON line. With `raw`, no decoding at all:
// the two summed fields are read straight from the ring (the zero-copy callback of suggestion 2).
// Usage: node proto-ring.js <object.o> <codec-module> <rounds> <runs> [raw]
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { CollectionSpec } from 'tsbpf';
import { koffi } from '../../dist/runtime/ffi/libbpf.js';
import { libc, MAP_SHARED, PROT_READ, PROT_WRITE } from '../../dist/runtime/ffi/libc.js';

const [objectPath, codecModule, roundsArg, runsArg, rawArg] = process.argv.slice(2);
const raw = rawArg === 'raw';
const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const { benchDecodeAt } = await import(pathToFileURL(codecModule).href);
if (!benchDecodeAt) throw new Error(`${codecModule} has no decodeX(view, bytes, offset) to call`);

const spec = CollectionSpec.fromBytes(new Uint8Array(readFileSync(objectPath)), { name: 'producer' });
spec.programs.get('produce_perf').autoload = false;
const coll = await spec.load();
const prog = coll.program('produce_ringbuf');
const map = coll.map('rb');

const c = libc();
const page = c.getpagesize();
const size = map.maxEntries;
const consumerPtr = c.mmap(null, page, PROT_READ | PROT_WRITE, MAP_SHARED, map.fd, 0);
const producerPtr = c.mmap(null, page + 2 * size, PROT_READ, MAP_SHARED, map.fd, page);
const consumerPos = new BigInt64Array(koffi.view(consumerPtr, page), 0, 1);
const producerBuf = koffi.view(producerPtr, page + 2 * size);
const producerPos = new BigInt64Array(producerBuf, 0, 1);
const data = new Uint8Array(producerBuf, page, 2 * size);
const data32 = new Int32Array(producerBuf, page, (2 * size) / 4);
const view = new DataView(producerBuf, page, 2 * size);
let cons = Number(Atomics.load(consumerPos, 0));

let events = 0;
let checksum = 0;
function drainOnce() {
  const prod = Number(Atomics.load(producerPos, 0));
  while (cons < prod) {
    const offset = cons % size;
    const len = Atomics.load(data32, offset >>> 2) >>> 0;
    if (len & 0x80000000) break;
    const length = len & 0x3fffffff;
    if (!(len & 0x40000000)) {
      if (raw) {
        // struct event: seq at 8, flags at 20 (bench/c/producer.bpf.c).
        checksum += view.getUint32(offset + 16, LE) + view.getUint32(offset + 28, LE);
      } else {
        const e = benchDecodeAt(view, data, offset + 8);
        checksum += e.seq + e.flags;
      }
      events++;
    }
    cons += (length + 8 + 7) & ~7;
  }
  Atomics.store(consumerPos, 0, BigInt(cons));
}

const packet = new Uint8Array(64);
let total = 0;
for (let r = 0; r < Number(roundsArg); r++) {
  prog.testRun({ data: packet, repeat: Number(runsArg) });
  const t0 = performance.now();
  drainOnce();
  total += performance.now() - t0;
}
c.munmap(consumerPtr, page);
c.munmap(producerPtr, page + 2 * size);
const seconds = total / 1000;
process.stdout.write(
  `${JSON.stringify({ events, seconds, rate: events / seconds, checksum: String(checksum) })}\n`,
);
coll.close();
