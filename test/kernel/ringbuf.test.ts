// Tracepoint + ring buffer, rodata constants, live .data/.bss, and the event loop staying free
// while a reader waits.
import { describe, expect, it } from 'vitest';
import { readObject } from '../../src/btf/index.js';
import { resolveFieldAs } from '../../src/codegen/field-as.js';
import { findType } from '../../src/codegen/loader.js';
import { emitTypesModule } from '../../src/codegen/types.js';
import { TsbpfError } from '../../src/errors.js';
import {
  type Codec,
  CollectionSpec,
  cstring,
  type RecordCodec,
  RingBuf,
  u32,
  u64,
} from '../../src/runtime/index.js';
import { importGenerated } from '../fixtures/btf/helpers.js';
import { fixture, getppid, setU32 } from './helpers.js';

interface Event {
  pid: number;
  seq: number;
  value: bigint;
  comm: string;
}

// struct event { __u32 pid; __u32 seq; __u64 value; char comm[16]; } from events.bpf.c
const Event: Codec<Event> = {
  size: 32,
  decode(bytes, offset = 0) {
    return {
      pid: u32.decode(bytes, offset),
      seq: u32.decode(bytes, offset + 4),
      value: u64.decode(bytes, offset + 8),
      comm: cstring(16).decode(bytes, offset + 16),
    };
  },
  encode() {
    throw new Error('not needed');
  },
  encodeInto() {
    throw new Error('not needed');
  },
};

// .rodata layout of events.bpf.c: target_pid @0 (u32), multiplier @8 (u64), burst @16 (u32)
function openEvents(options: { multiplier?: bigint; burst?: number } = {}): CollectionSpec {
  const spec = CollectionSpec.fromBytes(fixture('events'), { name: 'events' });
  const rodata = spec.dataSection('.rodata')!;
  setU32(rodata, 0, process.pid);
  if (options.multiplier) u64.encodeInto(options.multiplier, rodata, 8);
  if (options.burst) setU32(rodata, 16, options.burst);
  return spec;
}

describe('tracepoint + ring buffer', () => {
  it('sizes a ring buffer declared with a value type as the kernel wants, keeping the event size', () => {
    const spec = openEvents();
    const events = spec.maps.get('events')!;
    expect(events.typeName).toBe('ringbuf');
    expect([events.keySize, events.valueSize]).toEqual([0, 0]);
    expect(events.declaredValueSize).toBe(32);
    expect(events.valueTypeId).toBeGreaterThan(0);
    spec.close();
  });

  it('delivers typed events, applies rodata constants and exposes live .bss/.data', async () => {
    await using coll = await openEvents({ multiplier: 3n }).load();
    coll.program('on_getppid').attach();
    const reader = new RingBuf(coll.map('events'), Event).reader();
    for (let i = 0; i < 5; i++) getppid();
    const got: Event[] = [];
    for await (const e of reader) {
      got.push(e);
      if (got.length === 5) break;
    }
    expect(got.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(got.every((e) => e.pid === process.pid)).toBe(true);
    expect(got.map((e) => e.value)).toEqual([3n, 6n, 9n, 12n, 15n]);
    expect(got[0]!.comm.length).toBeGreaterThan(0);
    // calls (.bss, offset 0) and last_value (.data) are the programs' live globals
    expect(u64.decode(coll.dataSection('.bss')!, 0)).toBe(5n);
    expect(u64.decode(coll.dataSection('.data')!, 0)).toBe(15n);
    // writing .bss reaches the program: it continues counting from 100
    u64.encodeInto(100n, coll.dataSection('.bss')!, 0);
    getppid();
    expect(u64.decode(coll.dataSection('.bss')!, 0)).toBe(101n);
    // rodata after load is a read-only copy
    expect(u64.decode(coll.dataSection('.rodata')!, 8)).toBe(3n);
  });

  it('keeps the event loop running while a reader waits, and close() ends the iteration', async () => {
    await using coll = await openEvents().load();
    coll.program('on_getppid').attach();
    const reader = new RingBuf(coll.map('events')).reader();
    let ticks = 0;
    const timer = setInterval(() => {
      ticks++;
      if (ticks === 20) getppid();
    }, 2);
    const got: Uint8Array[] = [];
    for await (const e of reader) {
      got.push(e);
      break;
    }
    clearInterval(timer);
    expect(ticks).toBeGreaterThanOrEqual(20);
    expect(got[0]!.byteLength).toBe(32);

    const second = new RingBuf(coll.map('events')).reader();
    setTimeout(() => second.close(), 20);
    const after: Uint8Array[] = [];
    for await (const e of second) after.push(e);
    expect(after).toEqual([]);
    expect(second.closed).toBe(true);
  });

  it('decodes a u64 chosen as a number (fieldAs) exactly, and throws naming the field past 2^53 - 1', async () => {
    // The codec tsbpf gen --field-as event.value=number writes for events.bpf.c's struct event.
    const bytes = fixture('events');
    const { btf } = readObject(bytes, 'events.bpf.o');
    const id = findType(btf, 'event')!;
    const choices = resolveFieldAs(btf, { 'event.value': 'number' }, findType);
    const code = emitTypesModule(btf, [id], { fieldAs: choices.byType });
    expect(code).toContain('  value: number;');
    const Numbered = (await importGenerated(code)).Event as RecordCodec<Event & { value: number }>;

    const big = 2 ** 52 + 1; // value = calls * multiplier: 1x fits, 2x is 2^53 + 2
    await using coll = await openEvents({ multiplier: BigInt(big) }).load();
    coll.program('on_getppid').attach();
    const reader = new RingBuf(coll.map('events'), Numbered).reader();
    getppid();
    const first = (await reader.nextBatch())?.[0];
    expect(first?.value).toBe(big);
    expect(typeof first?.value).toBe('number');
    getppid();
    getppid();
    let error: unknown;
    try {
      await reader.nextBatch();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TsbpfError);
    expect((error as Error).message).toBe(
      `event.value is ${2n * BigInt(big)}, which a number cannot hold exactly (the field decodes as a number: it must stay within ±(2^53 - 1))`,
    );
    // The record that threw is consumed (as consume() documents), never re-delivered; the next
    // one is read, and throws in turn: nothing is rounded or skipped quietly.
    expect(() => reader.readAvailable()).toThrow(`event.value is ${3n * BigInt(big)},`);
    expect(reader.readAvailable()).toEqual([]);
  });

  it('reads bursts in batches (and reports the rate)', async () => {
    await using coll = await openEvents({ burst: 1000 }).load();
    coll.program('on_getppid').attach();
    const reader = new RingBuf(coll.map('events'), Event).reader();
    const total = 500_000;
    let got = 0;
    let lastSeq = -1;
    let ordered = true;
    const producer = setInterval(() => {
      for (let i = 0; i < 50; i++) getppid();
    }, 0);
    const start = performance.now();
    for await (const batch of reader.batches()) {
      for (const e of batch) {
        if (e.seq !== lastSeq + 1) ordered = false;
        lastSeq = e.seq;
      }
      got += batch.length;
      if (got >= total) break;
    }
    const seconds = (performance.now() - start) / 1000;
    clearInterval(producer);
    console.log(`ring buffer: ${Math.round(got / seconds)} events/s decoded (32-byte events)`);
    expect(got).toBeGreaterThanOrEqual(total);
    expect(ordered).toBe(true);
  });
});
