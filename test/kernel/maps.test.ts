// Each map family through its typed view, and a raw_tp program that fills the stack trace map,
// the queue and an inner map, and tail-calls through the prog array.
import { mkdirSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ArrayMap,
  bytes,
  CollectionSpec,
  HashMap,
  LpmTrieMap,
  MapOfMaps,
  numPossibleCpus,
  openPinnedLink,
  openPinnedMap,
  PerCpuArrayMap,
  PerCpuHashMap,
  ProgArray,
  QueueMap,
  StackTraceMap,
  TsbpfError,
  UsageError,
  u32,
  u64,
} from '../../src/runtime/index.js';
import { fixture, getppid, setU32 } from './helpers.js';

async function load() {
  const spec = CollectionSpec.fromBytes(fixture('maps'), { name: 'maps' });
  setU32(spec.dataSection('.rodata')!, 0, process.pid);
  return spec.load();
}

describe('map families', () => {
  it('hash: set/get/has/delete/keys/entries/size, update flags, batches', async () => {
    await using coll = await load();
    const hash = new HashMap(coll.map('hash'), u32, u64);
    hash.set(1, 10n);
    hash.set(2, 20n, 'noexist');
    expect(() => hash.set(2, 21n, 'noexist')).toThrow(/exists/);
    expect(() => hash.set(3, 30n, 'exist')).toThrow(TsbpfError);
    expect(hash.get(1)).toBe(10n);
    expect(hash.get(3)).toBeUndefined();
    expect(hash.has(2)).toBe(true);
    expect(hash.size).toBe(2);
    expect([...hash.keys()].sort()).toEqual([1, 2]);
    hash.setBatch(Array.from({ length: 500 }, (_, i) => [100 + i, BigInt(i)] as [number, bigint]));
    expect(hash.size).toBe(502);
    const all = new Map(hash.getBatch());
    expect(all.size).toBe(502);
    expect(all.get(599)).toBe(499n);
    expect(hash.deleteBatch([100, 101, 102])).toBe(3);
    expect(hash.delete(1)).toBe(true);
    expect(hash.delete(1)).toBe(false);
    hash.clear();
    expect(hash.size).toBe(0);
    expect(() => new HashMap(coll.map('hash'), u32, u32)).toThrow(UsageError);
  });

  it('LRU hash evicts beyond max entries', async () => {
    await using coll = await load();
    const lru = new HashMap(coll.map('lru'), u32, u32);
    for (let i = 0; i < 50; i++) lru.set(i, i);
    expect(lru.size).toBeLessThan(50);
    expect(lru.get(49)).toBe(49);
  });

  it('array and per-CPU maps', async () => {
    await using coll = await load();
    const array = new ArrayMap(coll.map('array'), u64);
    expect(array.length).toBe(8);
    array.set(7, 77n);
    expect(array.get(7)).toBe(77n);
    expect(array.get(0)).toBe(0n);
    expect(() => array.get(8)).toThrow(UsageError);
    const cpus = numPossibleCpus();
    const pcpu = new PerCpuHashMap(coll.map('pcpu_hash'), u32, u32);
    pcpu.set(
      5,
      Array.from({ length: cpus }, (_, i) => i * 10),
    );
    expect(pcpu.get(5)).toEqual(Array.from({ length: cpus }, (_, i) => i * 10));
    pcpu.set(6, 3);
    expect(pcpu.get(6)).toEqual(new Array(cpus).fill(3));
    expect([...pcpu.entries()].length).toBe(2);
    const parr = new PerCpuArrayMap(coll.map('pcpu_array'), u64);
    parr.set(1, 9n);
    expect(parr.get(1)).toEqual(new Array(cpus).fill(9n));
  });

  it('LPM trie matches the longest prefix', async () => {
    await using coll = await load();
    const lpm = new LpmTrieMap(coll.map('lpm'), bytes(4), u32);
    lpm.set({ prefixLen: 8, data: new Uint8Array([10, 0, 0, 0]) }, 1);
    lpm.set({ prefixLen: 24, data: new Uint8Array([10, 1, 2, 0]) }, 2);
    expect(lpm.match(new Uint8Array([10, 1, 2, 3]))).toBe(2);
    expect(lpm.match(new Uint8Array([10, 9, 9, 9]))).toBe(1);
    expect(lpm.match(new Uint8Array([11, 0, 0, 1]))).toBeUndefined();
  });

  it('queue and stack', async () => {
    await using coll = await load();
    const queue = new QueueMap(coll.map('queue'), u32);
    const stack = new QueueMap(coll.map('stack'), u32);
    for (const v of [1, 2, 3]) {
      queue.push(v);
      stack.push(v);
    }
    expect(queue.peek()).toBe(1);
    expect([queue.pop(), queue.pop(), queue.pop(), queue.pop()]).toEqual([1, 2, 3, undefined]);
    expect([stack.pop(), stack.pop(), stack.pop()]).toEqual([3, 2, 1]);
    for (let i = 0; i < 4; i++) queue.push(i);
    expect(() => queue.push(9)).toThrow(TsbpfError);
    queue.push(9, { overwrite: true });
    expect(queue.pop()).toBe(1);
  });

  it('prog array, map-in-map, stack traces and queue filled by a raw_tp program', async () => {
    await using coll = await load();
    const bss = () => coll.dataSection('.bss')!;
    const jumps = new ProgArray(coll.map('jumps'));
    jumps.set(0, coll.program('jumped'));
    expect(jumps.getId(0)).toBeGreaterThan(0);
    const outer = new MapOfMaps(coll.map('outer'));
    new ArrayMap(coll.map('inner_b'), u32).set(0, 4242);
    outer.set(0, coll.map('inner_b'));
    expect(outer.getId(0)).toBeGreaterThan(0);
    const queue = new QueueMap(coll.map('queue'), u32);
    coll.program('on_sys_enter').attach();
    getppid();
    // .data: last_stack (s32, starts at -1); .bss: tail_hits (u32) @0, inner_seen (u32) @4
    const stackId = new DataView(
      coll.dataSection('.data')!.buffer,
      coll.dataSection('.data')!.byteOffset,
    ).getInt32(0, true);
    const view = new DataView(bss().buffer, bss().byteOffset);
    expect(view.getUint32(0, true)).toBeGreaterThan(0);
    expect(view.getUint32(4, true)).toBe(4242);
    expect(stackId).toBeGreaterThanOrEqual(0);
    const stacks = new StackTraceMap(coll.map('stacks'));
    const frames = stacks.get(stackId)!;
    expect(frames.length).toBeGreaterThan(0);
    expect([...stacks.ids()]).toContain(stackId);
    expect(queue.pop()).toBeTypeOf('number');
  });

  it('pins a map and opens it again by path', async () => {
    const dir = `/sys/fs/bpf/tsbpf-test-${process.pid}`;
    mkdirSync(dir, { recursive: true });
    try {
      await using coll = await load();
      const map = coll.map('hash');
      new HashMap(map, u32, u64).set(7, 70n);
      map.pin(`${dir}/hash`);
      using pinned = openPinnedMap(`${dir}/hash`);
      expect([pinned.typeName, pinned.keySize, pinned.valueSize]).toEqual(['hash', 4, 8]);
      expect(new HashMap(pinned, u32, u64).get(7)).toBe(70n);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('pins a link so the attachment outlives its object, then reopens and unpins it', async () => {
    const dir = `/sys/fs/bpf/tsbpf-link-${process.pid}`;
    mkdirSync(dir, { recursive: true });
    try {
      await using coll = await load();
      const counts = new HashMap(coll.map('hash'), u32, u64);
      const link = coll.program('on_sys_enter').attach();
      link.pin!(`${dir}/link`);
      link.close(); // the pin keeps the program attached
      const tailHits = () =>
        new DataView(coll.dataSection('.bss')!.buffer, coll.dataSection('.bss')!.byteOffset).getUint32(
          0,
          true,
        );
      new ProgArray(coll.map('jumps')).set(0, coll.program('jumped'));
      const before = tailHits();
      getppid();
      expect(tailHits()).toBeGreaterThan(before);
      const reopened = openPinnedLink(`${dir}/link`);
      reopened.unpin!();
      reopened.close();
      const after = tailHits();
      getppid();
      expect(tailHits()).toBe(after);
      coll.program('jumped').pin(`${dir}/prog`);
      coll.program('jumped').unpin(`${dir}/prog`);
      expect(counts.size).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
