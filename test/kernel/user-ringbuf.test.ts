// A user ring buffer through a generated loader: typed records written from JavaScript
// (UserRingBuf<Rec>, bound with --event input=rec) and drained by a syscall program that sums them;
// the ring filling up (tryWrite false, write's UserRingBufFullError), reserve/submit/discard, a
// record larger than the ring, and close.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importLoader, tempProject, tsbpf, vmlinuxArgs } from '../fixtures/gen/helpers.js';
import { repoRoot } from '../helpers/paths.js';
import { errorOf } from './helpers.js';

interface Rec {
  id: number;
  weight: number;
  value: bigint;
}
interface Sample {
  bytes: Uint8Array;
  submit(): void;
  discard(): void;
}
interface Ring {
  readonly map: unknown;
  write(value: Rec): void;
  tryWrite(value: Rec): boolean;
  reserve(size?: number): Sample | null;
  close(): void;
}
interface Objects {
  programs: { drain: { testRun(): { retval: number } } };
  maps: { input: Ring; seen: { get(index: number): number | undefined; set(i: number, v: number): void } };
  variables: Record<'sum' | 'weights' | 'drained' | 'bad', { get(): bigint; set(v: bigint): void }>;
  close(): void;
}
interface Loader {
  loadUserRingbuf(): Promise<Objects>;
  Rec: { size: number; encode(value: Rec): Uint8Array };
}

let loader: Loader;
let objects: Objects;
let source = '';

beforeAll(async () => {
  const dir = tempProject();
  const fixture = join(repoRoot, 'test/fixtures/runtime/user_ringbuf.bpf.c');
  const result = await tsbpf(
    ['gen', 'user_ringbuf', fixture, '--target', 'bpfel', '--event', 'input=rec', ...vmlinuxArgs()],
    dir,
  );
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  source = join(dir, 'user_ringbuf.ts');
  loader = await importLoader<Loader>(source);
  objects = await loader.loadUserRingbuf();
});

afterAll(() => objects?.close());

/** Runs the draining program once; how many records it took. */
const drain = (): number => objects.programs.drain.testRun().retval;

function reset(): void {
  for (const name of ['sum', 'weights', 'drained', 'bad'] as const) objects.variables[name].set(0n);
  for (let i = 0; i < 4096; i++) if (objects.maps.seen.get(i)) objects.maps.seen.set(i, 0);
}

describe('UserRingBuf', () => {
  it('the generated loader types the map by the record type named with --event', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(source, 'utf8');
    expect(text).toContain('input: UserRingBuf<Rec>;');
    expect(text).toContain('new UserRingBuf(');
  });

  it('every typed record written reaches the program, across fills of the ring', () => {
    reset();
    const n = 1000;
    let written = 0;
    let drains = 0;
    let fills = 0;
    let expectedSum = 0n;
    while (written < n) {
      const rec = { id: written, weight: written % 7, value: BigInt(written) * 1_000_003n };
      if (objects.maps.input.tryWrite(rec)) {
        expectedSum += rec.value;
        written++;
        continue;
      }
      fills++;
      // Full: write() says so; the program drains what is there.
      expect(() => objects.maps.input.write(rec)).toThrowError(
        /^map input: the user ring buffer is full \(4096 bytes\); the program has not drained it$/,
      );
      if (fills === 1) {
        const error = errorOf(() => objects.maps.input.write(rec));
        expect(error.constructor.name).toBe('UserRingBufFullError');
        expect(error.hint).toContain('bpf_user_ringbuf_drain()');
      }
      expect(drain()).toBeGreaterThan(0);
      drains++;
    }
    drains += drain() > 0 ? 1 : 0;
    // 4096 bytes hold 170 records of 16 bytes with their 8-byte headers: 1000 fill it 5 times.
    expect(fills).toBeGreaterThanOrEqual(5);
    expect(drains).toBeGreaterThanOrEqual(6);
    expect(objects.variables.drained.get()).toBe(BigInt(n));
    expect(objects.variables.bad.get()).toBe(0n);
    expect(objects.variables.sum.get()).toBe(expectedSum);
    let weights = 0n;
    for (let id = 0; id < n; id++) {
      expect(objects.maps.seen.get(id)).toBe(1);
      weights += BigInt(id % 7);
    }
    expect(objects.variables.weights.get()).toBe(weights);
    expect(drain()).toBe(0);
  });

  it('reserve() keeps its place: later records wait until it is submitted; discard() drops it', () => {
    reset();
    const first = objects.maps.input.reserve();
    expect(first).not.toBeNull();
    objects.maps.input.write({ id: 2, weight: 0, value: 20n });
    expect(drain()).toBe(0); // the reserved record is not submitted: nothing is drained
    first!.bytes.set(loader.Rec.encode({ id: 1, weight: 0, value: 10n }));
    first!.submit();
    expect(drain()).toBe(2);
    expect(objects.variables.sum.get()).toBe(30n);
    const dropped = objects.maps.input.reserve()!;
    dropped.discard();
    expect(() => dropped.submit()).toThrowError('map input: this sample was already submitted or discarded');
    expect(drain()).toBe(0);
    expect(objects.variables.drained.get()).toBe(2n);
  });

  it('a record larger than the ring is a UsageError naming both sizes', () => {
    let error: (Error & { hint?: string }) | undefined;
    try {
      objects.maps.input.reserve(8192);
    } catch (e) {
      error = e as Error & { hint?: string };
    }
    expect(error?.constructor.name).toBe('UsageError');
    expect(error?.message).toBe(
      "map input: a record of 8192 bytes does not fit in the user ring buffer (4096 bytes, 8 of them each record's header)",
    );
    expect(error?.hint).toContain('raise max_entries');
  });

  it('without a record type, write() takes bytes, and refuses anything else', () => {
    reset();
    // The loader's UserRingBuf class, as a program without --event would get it.
    const Untyped = objects.maps.input.constructor as new (
      map: unknown,
    ) => Omit<Ring, 'write'> & {
      write(value: unknown): void;
    };
    const raw = new Untyped(objects.maps.input.map);
    try {
      raw.write(loader.Rec.encode({ id: 5, weight: 1, value: 55n }));
      expect(drain()).toBe(1);
      expect(objects.variables.sum.get()).toBe(55n);
      expect(objects.maps.seen.get(5)).toBe(1);
      const error = errorOf(() => raw.write({ id: 1, weight: 0, value: 0n }));
      expect(error.constructor.name).toBe('UsageError');
      expect(error.message).toBe('map input: this user ring buffer has no record type: write bytes');
    } finally {
      raw.close();
    }
  });

  it('after close(), writes are refused', () => {
    objects.maps.input.close();
    expect(() => objects.maps.input.write({ id: 0, weight: 0, value: 0n })).toThrowError(
      'map input: the user ring buffer writer is closed',
    );
  });
});
