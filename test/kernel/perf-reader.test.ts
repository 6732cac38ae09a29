// The perf event array reader walks the per-CPU perf rings in JavaScript. These tests overflow a
// one-page ring on purpose and check that every sample the program tried to send is accounted
// for: received, or counted as lost from the kernel's PERF_RECORD_LOST records.
import koffi from 'koffi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Codec, CollectionSpec, PerfEventArray, u32, u64 } from '../../src/runtime/index.js';
import { compileSource } from '../helpers/bpf.js';

// A 40-byte event: with the 8-byte perf_event_header and the u32 raw size the record is 52 bytes,
// padded to 56, which does not divide a 4 KiB ring: records keep wrapping around its end.
const SOURCE = `
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct event {
  __u64 seq;
  __u32 cpu;
  __u32 magic;
  __u8 payload[24];
};

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
} events SEC(".maps");

__u32 burst = 1;      // .data: set between runs
__u64 next_seq = 0;   // .bss
__u64 sent = 0;
__u64 failed = 0;

SEC("xdp")
int emit(struct xdp_md *ctx) {
  struct event e = {};
  e.cpu = bpf_get_smp_processor_id();
  e.magic = 0x7e57;
  for (__u32 i = 0; i < 4096 && i < burst; i++) {
    e.seq = next_seq++;
    e.payload[0] = e.seq & 0xff;
    if (bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e)) == 0)
      sent++;
    else
      failed++;
  }
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
`;

interface Event {
  seq: bigint;
  cpu: number;
  magic: number;
  first: number;
}

const EventCodec: Codec<Event> = {
  size: 40,
  decode: (b, o = 0) => ({
    seq: u64.decode(b, o),
    cpu: u32.decode(b, o + 8),
    magic: u32.decode(b, o + 12),
    first: b[o + 16]!,
  }),
  encode: () => {
    throw new Error('not needed');
  },
  encodeInto: () => {
    throw new Error('not needed');
  },
};

// The program runs on the CPU of the thread that calls BPF_PROG_TEST_RUN, and a lost record is
// written into a ring only with the next sample that fits it: pin this thread to one CPU so every
// run (the burst and the one after it) goes to the same ring.
const libc = koffi.load('libc.so.6');
const sched_getaffinity = libc.func('int sched_getaffinity(int pid, size_t size, _Out_ uint8_t *mask)');
const sched_setaffinity = libc.func('int sched_setaffinity(int pid, size_t size, const uint8_t *mask)');
const savedMask = new Uint8Array(128);

/** The lowest CPU this process may run on. */
function firstCpu(mask: Uint8Array): number {
  for (let i = 0; i < mask.length * 8; i++) if (mask[i >> 3]! & (1 << (i & 7))) return i;
  return 0;
}

let object: Uint8Array;

beforeAll(() => {
  object = compileSource('perf_burst', SOURCE);
  expect(sched_getaffinity(0, savedMask.length, savedMask)).toBe(0);
  const mask = new Uint8Array(128);
  const cpu = firstCpu(savedMask);
  mask[cpu >> 3] = 1 << (cpu & 7);
  expect(sched_setaffinity(0, mask.length, mask)).toBe(0);
});

afterAll(() => {
  sched_setaffinity(0, savedMask.length, savedMask);
});

async function load(burst: number) {
  const coll = await CollectionSpec.fromBytes(object, { name: 'perf_burst' }).load();
  setBurst(coll, burst);
  return coll;
}

type Loaded = Awaited<ReturnType<CollectionSpec['load']>>;

/** Events per program run, written into the live .data section. */
function setBurst(coll: Loaded, burst: number): void {
  const data = coll.dataSection('.data')!;
  new DataView(data.buffer, data.byteOffset, data.byteLength).setUint32(0, burst, hostLE);
}

function counters(coll: Loaded): { sent: bigint; failed: bigint } {
  const bss = coll.dataSection('.bss')!;
  const view = new DataView(bss.buffer, bss.byteOffset, bss.byteLength);
  // .bss in declaration order: next_seq, sent, failed.
  return { sent: view.getBigUint64(8, hostLE), failed: view.getBigUint64(16, hostLE) };
}

const packet = new Uint8Array(64);
const hostLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

describe('perf event array reader', () => {
  it('counts every sample of a burst larger than its ring: received + lost = produced', async () => {
    await using coll = await load(1000);
    const reader = new PerfEventArray(coll.map('events'), EventCodec).reader(undefined, { pageCount: 1 });
    coll.program('emit').testRun({ data: packet });
    const received: Event[] = [...reader.readAvailable(Number.POSITIVE_INFINITY)];
    // The kernel writes the lost record ahead of the next sample that fits: send one more event.
    setBurst(coll, 1);
    coll.program('emit').testRun({ data: packet });
    received.push(...reader.readAvailable(Number.POSITIVE_INFINITY));
    const { sent, failed } = counters(coll);
    const produced = 1001;
    expect(Number(sent + failed)).toBe(produced);
    expect(failed).toBeGreaterThan(0n); // the ring (4 KiB) holds about 73 of these records
    expect(received.length).toBe(Number(sent));
    expect(reader.lost).toBe(Number(failed));
    expect(received.length + reader.lost).toBe(produced);
    // The samples are intact, in order, and the last one is the flush event.
    let previous = -1n;
    for (const e of received) {
      expect(e.magic).toBe(0x7e57);
      expect(e.first).toBe(Number(e.seq & 0xffn));
      expect(e.seq).toBeGreaterThan(previous);
      previous = e.seq;
    }
    expect(received.at(-1)?.seq).toBe(1000n);
    reader.close();
  });

  it('reads records that wrap around the end of the ring, losing none', async () => {
    await using coll = await load(40);
    const reader = new PerfEventArray(coll.map('events'), EventCodec).reader(undefined, { pageCount: 1 });
    const seqs: bigint[] = [];
    for (let run = 0; run < 30; run++) {
      coll.program('emit').testRun({ data: packet });
      for (const e of reader.readAvailable()) {
        expect(e.magic).toBe(0x7e57);
        expect(e.first).toBe(Number(e.seq & 0xffn));
        seqs.push(e.seq);
      }
    }
    // 1200 records of 56 bytes went through a 4096-byte ring: many wrapped around its end.
    expect(reader.lost).toBe(0);
    expect(counters(coll).failed).toBe(0n);
    expect(seqs).toEqual(Array.from({ length: 1200 }, (_, i) => BigInt(i)));
    reader.close();
  });

  it('delivers raw bytes (padded to the record) without a codec, and honours max', async () => {
    await using coll = await load(10);
    const reader = new PerfEventArray(coll.map('events')).reader(undefined, { pageCount: 1 });
    coll.program('emit').testRun({ data: packet });
    const first = reader.readAvailable(4);
    const rest = reader.readAvailable();
    expect([first.length, rest.length]).toEqual([4, 6]);
    for (const [i, bytes] of [...first, ...rest].entries()) {
      // 40 bytes of event, plus the kernel's padding of the raw sample to 8 bytes with its u32 size.
      expect(bytes.length).toBe(44);
      expect(u64.decode(bytes)).toBe(BigInt(i));
    }
    reader.close();
  });

  it('waits without blocking the event loop and counts losses while iterating', async () => {
    await using coll = await load(500);
    const reader = new PerfEventArray(coll.map('events'), EventCodec).reader(undefined, { pageCount: 1 });
    const bursts = 6;
    let produced = 0;
    let received = 0;
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    // Every burst overflows the ring. A burst's losses are reported with the next sample that fits,
    // so after the bursts one-event runs follow until everything is accounted for.
    let run = 0;
    const produce = setInterval(() => {
      if (run < bursts) {
        coll.program('emit').testRun({ data: packet });
        produced += 500;
      } else if (received + reader.lost < produced) {
        setBurst(coll, 1);
        coll.program('emit').testRun({ data: packet });
        produced += 1;
      }
      run++;
    }, 20);
    try {
      for await (const batch of reader.batches()) {
        received += batch.length;
        if (run >= bursts && received + reader.lost === produced) break;
      }
    } finally {
      clearInterval(produce);
      clearInterval(timer);
    }
    const { sent, failed } = counters(coll);
    expect(Number(sent + failed)).toBe(produced);
    expect(failed).toBeGreaterThan(0n);
    expect(received).toBe(Number(sent));
    expect(reader.lost).toBe(Number(failed));
    expect(ticks).toBeGreaterThan(0);
    reader.close();
  });
});
