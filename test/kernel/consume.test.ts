// reader.consume(): events read in place through the generated view, from a ring buffer and a perf
// event array filled by a real program (BPF_PROG_TEST_RUN). The view class comes from tsbpf's own
// codegen for the program's BTF, as in a generated loader.
import { beforeAll, describe, expect, it } from 'vitest';
import { readObject } from '../../src/btf/index.js';
import { emitTypesModule } from '../../src/codegen/types.js';
import {
  type Collection,
  CollectionSpec,
  PerfEventArray,
  type RecordCodec,
  type RecordView,
  RingBuf,
  TsbpfError,
  UsageError,
} from '../../src/runtime/index.js';
import { importGenerated } from '../fixtures/btf/helpers.js';
import { compileSource } from '../helpers/bpf.js';

// struct event has a variable-length tail: the program sends 16 + len bytes (len = seq % 9).
const SOURCE = `
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct event {
  __u64 seq;
  __u32 len;
  __u32 magic;
  __u8 data[8];
};

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 20);
  __type(value, struct event);
} ring SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
} perf SEC(".maps");

__u32 burst = 1;
__u32 short_send SEC(".data") = 0;  // when set, send 4 bytes: shorter than the struct's fixed part
__u64 next_seq = 0;

static __always_inline void fill(struct event *e) {
  e->seq = next_seq++;
  e->len = e->seq % 9;
  e->magic = 0xc0ffee;
  for (int i = 0; i < 8; i++) e->data[i] = (e->seq + i) & 0xff;
}

SEC("xdp")
int to_ring(struct xdp_md *ctx) {
  struct event e = {};
  for (__u32 i = 0; i < 4096 && i < burst; i++) {
    fill(&e);
    __u32 size = short_send ? 4 : 16 + (e.len & 15);
    if (size > sizeof(e)) size = sizeof(e);
    bpf_ringbuf_output(&ring, &e, size, 0);
  }
  return XDP_PASS;
}

SEC("xdp")
int to_perf(struct xdp_md *ctx) {
  struct event e = {};
  for (__u32 i = 0; i < 4096 && i < burst; i++) {
    fill(&e);
    __u32 size = 16 + (e.len & 15);
    if (size > sizeof(e)) size = sizeof(e);
    bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &e, size);
  }
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
`;

interface Event {
  seq: bigint;
  len: number;
  magic: number;
  data: Uint8Array;
}
type EventView = RecordView<Event> & Readonly<Event>;

let object: Uint8Array;
let EventCodec: RecordCodec<Event, EventView>;

beforeAll(async () => {
  object = compileSource('consume', SOURCE);
  const { btf } = readObject(object, 'consume.bpf.o');
  const mod = await importGenerated(emitTypesModule(btf, [btf.get('event', 'struct').id]));
  EventCodec = mod.Event as RecordCodec<Event, EventView>;
});

const packet = new Uint8Array(64);

async function load(burst: number): Promise<Collection> {
  const coll = await CollectionSpec.fromBytes(object, { name: 'consume' }).load();
  setData(coll, 0, burst);
  return coll;
}

/** A loaded collection whose program has sent `burst` events to the ring buffer, and a reader of it. */
async function sentToRing(burst: number) {
  const coll = await load(burst);
  const reader = new RingBuf(coll.map('ring'), EventCodec).reader();
  coll.program('to_ring').testRun({ data: packet });
  return { reader, [Symbol.asyncDispose]: () => coll[Symbol.asyncDispose]() };
}

/** A u32 of the live .data section: burst at 0, short_send at 4. */
function setData(coll: Collection, offset: number, value: number): void {
  const data = coll.dataSection('.data')!;
  new DataView(data.buffer, data.byteOffset, data.byteLength).setUint32(offset, value, true);
}

/** What the program sent as event `seq` (see fill()). */
function expected(seq: number) {
  const len = seq % 9;
  return { seq: BigInt(seq), len, data: Array.from({ length: len }, (_, i) => (seq + i) & 0xff) };
}

describe('consume() on a ring buffer', () => {
  it('reads every event in place, in order, with the tail its length allows', async () => {
    await using ring = await sentToRing(1000);
    const { reader } = ring;
    const seen: { seq: bigint; len: number; data: number[] }[] = [];
    let sameView = true;
    let first: EventView | undefined;
    const n = reader.consume((e) => {
      first ??= e;
      sameView &&= e === first;
      expect(e.magic).toBe(0xc0ffee);
      // The byte array is a window on the ring, not a copy.
      expect(e.data.buffer.byteLength).toBeGreaterThan(1 << 20);
      seen.push({ seq: e.seq, len: e.len, data: [...e.data] });
    });
    expect(n).toBe(1000);
    expect(sameView).toBe(true);
    expect(seen).toEqual(Array.from({ length: 1000 }, (_, i) => expected(i)));
    // Everything was consumed: nothing is left for either way of reading.
    expect(reader.consume(() => {})).toBe(0);
    expect(reader.readAvailable()).toEqual([]);
    reader.close();
  });

  it('stops at max, and hands what is left to the next call; $decode() copies', async () => {
    await using ring = await sentToRing(50);
    const { reader } = ring;
    const kept: Event[] = [];
    expect(reader.consume((e) => kept.push(e.$decode()), 10)).toBe(10);
    const rest = reader.readAvailable();
    expect([...kept, ...rest].map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => BigInt(i)));
    expect(kept[7]).toEqual({ ...expected(7), magic: 0xc0ffee, data: Uint8Array.from(expected(7).data) });
    expect(kept[7]!.data.buffer.byteLength).toBe(kept[7]!.data.byteLength);
    reader.close();
  });

  it('consumes the event a callback throws on, and resumes after it', async () => {
    await using ring = await sentToRing(5);
    const { reader } = ring;
    const seqs: bigint[] = [];
    expect(() =>
      reader.consume((e) => {
        if (e.seq === 2n) throw new Error('boom');
        seqs.push(e.seq);
      }),
    ).toThrow('boom');
    reader.consume((e) => seqs.push(e.seq));
    expect(seqs).toEqual([0n, 1n, 3n, 4n]);
    reader.close();
  });

  it('survives close() inside the callback; a view kept past its callback reads nothing', async () => {
    await using ring = await sentToRing(20);
    const { reader } = ring;
    let kept: EventView | undefined;
    const n = reader.consume((e) => {
      kept = e;
      reader.close();
      // Still mapped until the callback returns.
      expect(e.seq).toBe(0n);
    });
    expect(n).toBe(1);
    expect(reader.closed).toBe(true);
    expect(() => kept!.seq).toThrow(RangeError);
    expect(reader.consume(() => {})).toBe(0);
  });

  it('refuses consume() from its own callback', async () => {
    await using ring = await sentToRing(2);
    const { reader } = ring;
    expect(() => reader.consume(() => reader.consume(() => {}))).toThrow(UsageError);
    expect(() => reader.consume(() => reader.readAvailable())).toThrow(/called from a consume\(\) callback/);
    reader.close();
  });

  it('names the map and the sizes when a record is shorter than its type', async () => {
    await using coll = await load(1);
    setData(coll, 4, 1);
    const reader = new RingBuf(coll.map('ring'), EventCodec).reader();
    coll.program('to_ring').testRun({ data: packet });
    const error = (() => {
      try {
        reader.consume(() => {});
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(TsbpfError);
    expect((error as TsbpfError).message).toBe(
      'map ring: an event of 4 bytes is shorter than the 16 bytes its type needs',
    );
    expect((error as TsbpfError).hint).toMatch(/sizeof/);
    reader.close();
  });

  it('poll() waits for events without blocking the event loop, and resolves to 0 once closed', async () => {
    await using coll = await load(3);
    const reader = new RingBuf(coll.map('ring'), EventCodec).reader();
    const seqs: bigint[] = [];
    const polled = reader.poll((e) => seqs.push(e.seq));
    // The event loop runs while poll() waits: this timer fires, and makes the events.
    setTimeout(() => coll.program('to_ring').testRun({ data: packet }), 50);
    expect(await polled).toBe(3);
    expect(seqs).toEqual([0n, 1n, 2n]);
    const pending = reader.poll(() => {});
    setTimeout(() => reader.close(), 50);
    expect(await pending).toBe(0);
  });
});

/**
 * A perf sample as sent: the kernel pads a raw sample (its u32 size and its bytes) to 8 bytes, so
 * a variable-length tail arrives with up to 7 bytes more than the program sent (stale ring bytes).
 */
function sample(e: Event) {
  const padded = Math.ceil((4 + 16 + e.len) / 8) * 8 - 4 - 16;
  expect(e.data.length).toBe(Math.min(8, padded));
  return { seq: e.seq, len: e.len, data: [...e.data.subarray(0, e.len)] };
}

describe('consume() on a perf event array', () => {
  it('reads every sample of every CPU ring once, records wrapping the ring end included', async () => {
    await using coll = await load(40);
    // One page per CPU: 400 records of 32-40 bytes (14 KiB) wrap the rings' ends.
    const reader = new PerfEventArray(coll.map('perf'), EventCodec).reader(undefined, { pageCount: 1 });
    const seen: { seq: bigint; len: number; data: number[] }[] = [];
    for (let run = 0; run < 10; run++) {
      coll.program('to_perf').testRun({ data: packet });
      // Half in place, half decoded: both ways take each sample exactly once.
      if (run % 2 === 0) reader.consume((e) => seen.push(sample(e)));
      else for (const e of reader.readAvailable()) seen.push(sample(e));
    }
    expect(reader.lost).toBe(0);
    seen.sort((a, b) => (a.seq < b.seq ? -1 : 1));
    expect(seen).toEqual(Array.from({ length: 400 }, (_, i) => expected(i)));
    reader.close();
  });
});
