// BPF iterators through a generated loader: attachIter() and the link's output as text, as lines
// (sync and async), and as typed records decoded by the generated codecs; a map iterator given its
// map; the errors for a program that is no iterator and for a map iterator without a map.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importLoader, tempProject, tsbpf, vmlinuxArgs } from '../fixtures/gen/helpers.js';
import { repoRoot } from '../helpers/paths.js';
import { errorOf, kernelLinksOf } from './helpers.js';

interface TaskRec {
  pid: number;
  ppid: number;
  comm: string;
}
interface Kv {
  key: number;
  pad: number;
  value: bigint;
}
interface Codec<T> {
  size: number;
  decode(bytes: Uint8Array, offset?: number): T;
}
interface IterLink {
  readText(): string;
  readLines(): string[];
  readRecords<T>(codec: Codec<T>): T[];
  lines(): AsyncIterable<string>;
  records<T>(codec: Codec<T>): AsyncIterable<T>;
  close(): void;
  readonly closed: boolean;
}
interface Program {
  attach(): IterLink;
  attachIter(options?: { map?: unknown; pid?: number; tid?: number }): IterLink;
}
interface Objects extends AsyncDisposable {
  programs: { listTasks: Program; taskRecords: Program; notIter: Program };
  close(): void;
}
interface Loader {
  loadIters(): Promise<Objects>;
  TaskRec: Codec<TaskRec>;
}
interface MapObjects extends AsyncDisposable {
  programs: { dumpCounts: Program };
  maps: { counts: { set(key: number, value: bigint): void } };
}
interface MapLoader {
  loadIterMap(): Promise<MapObjects>;
  Kv: Codec<Kv>;
}

/** `tsbpf gen` of a fixture in a fresh project, the loader imported. */
async function generated<T>(ident: string, types: string[]): Promise<T> {
  const dir = tempProject();
  const source = join(repoRoot, 'test/fixtures/runtime', `${ident}.bpf.c`);
  const args = ['gen', ident, source, '--target', 'bpfel', ...types.flatMap((t) => ['--type', t])];
  const result = await tsbpf([...args, ...vmlinuxArgs()], dir);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return importLoader<T>(join(dir, `${ident}.ts`));
}

const children: ChildProcess[] = [];
let loader: Loader;
let objects: Objects;

beforeAll(async () => {
  loader = await generated<Loader>('iters', ['task_rec']);
  objects = await loader.loadIters();
  for (let i = 0; i < 3; i++) children.push(spawn('sleep', ['30'], { stdio: 'ignore' }));
});

afterAll(() => {
  for (const child of children) child.kill();
  objects?.close();
});

const childPids = (): number[] => children.map((c) => c.pid!).sort((a, b) => a - b);

describe('attachIter()', () => {
  it('a task iterator lists this process and its children (readText / readLines)', () => {
    const link = objects.programs.listTasks.attachIter();
    try {
      const text = link.readText();
      expect(text.endsWith('\n')).toBe(true);
      const rows = link.readLines().map((line) => line.split(' '));
      const mine = rows.filter(([, ppid]) => Number(ppid) === process.pid);
      expect(mine.map(([pid]) => Number(pid)).sort((a, b) => a - b)).toEqual(childPids());
      expect(mine.every(([, , comm]) => comm === 'sleep')).toBe(true);
      expect(rows.some(([pid]) => Number(pid) === process.pid)).toBe(true);
      // Each read is a new pass: a child killed now is gone from the next one.
      expect(link.readLines().length).toBeGreaterThan(10);
    } finally {
      link.close();
    }
  });

  it('lines() yields the same lines asynchronously', async () => {
    const link = objects.programs.listTasks.attachIter();
    try {
      const pids: number[] = [];
      for await (const line of link.lines()) {
        const [pid, ppid] = line.split(' ').map(Number);
        if (ppid === process.pid) pids.push(pid!);
      }
      expect(pids.sort((a, b) => a - b)).toEqual(childPids());
    } finally {
      link.close();
    }
  });

  it('attach() on an iter/ section returns the same reading link', () => {
    const link = objects.programs.listTasks.attach();
    try {
      expect(link.readLines().some((line) => line.startsWith(`${process.pid} `))).toBe(true);
    } finally {
      link.close();
    }
  });

  it('typed records (bpf_seq_write) decode with the generated codec, sync and async', async () => {
    const link = objects.programs.taskRecords.attachIter();
    try {
      const records = link.readRecords(loader.TaskRec);
      const mine = records.filter((r) => r.ppid === process.pid);
      expect(mine.map((r) => r.pid).sort((a, b) => a - b)).toEqual(childPids());
      expect(mine.map((r) => r.comm)).toEqual(['sleep', 'sleep', 'sleep']);
      const streamed: TaskRec[] = [];
      for await (const r of link.records(loader.TaskRec)) if (r.ppid === process.pid) streamed.push(r);
      expect(streamed.map((r) => r.pid).sort((a, b) => a - b)).toEqual(childPids());
    } finally {
      link.close();
    }
  });

  it('a task iterator narrowed to one pid sees only that process', () => {
    const [child] = children;
    const link = objects.programs.listTasks.attachIter({ pid: child!.pid! });
    try {
      expect(link.readLines()).toEqual([`${child!.pid} ${process.pid} sleep`]);
    } finally {
      link.close();
    }
  });

  it('the link is a kernel link while attached, and close() detaches it', () => {
    const link = objects.programs.listTasks.attachIter();
    const before = kernelLinksOf(process.pid).length;
    expect(before).toBeGreaterThan(0);
    link.close();
    expect(link.closed).toBe(true);
    expect(kernelLinksOf(process.pid).length).toBe(before - 1);
    expect(() => link.readText()).toThrow('iterator list_tasks: its link is closed');
  });

  it('a program that is no iterator, and a map with a pid, are UsageErrors', () => {
    const notIter = errorOf(() => objects.programs.notIter.attachIter());
    expect(notIter.constructor.name).toBe('UsageError');
    expect(notIter.message).toBe('program not_iter: SEC("raw_tp/sys_enter") is not an iterator');
    expect(notIter.hint).toBe('attachIter() attaches SEC("iter/<kind>") programs, e.g. SEC("iter/task")');
    const both = errorOf(() => objects.programs.listTasks.attachIter({ map: {}, pid: 1 }));
    expect(both.constructor.name).toBe('UsageError');
    expect(both.message).toBe('program list_tasks: attachIter() takes a map or a pid/tid, not both');
  });

  it('records of the wrong size are refused with the sizes named', () => {
    const link = objects.programs.taskRecords.attachIter();
    try {
      // Larger than the whole output, so no count of tasks makes it divide evenly.
      const huge = { size: 1 << 20, decode: () => 0 };
      const error = errorOf(() => link.readRecords(huge));
      expect(error.constructor.name).toBe('UsageError');
      expect(error.message).toMatch(
        /^iterator task_records: its output \((\d+) bytes\) is not whole records of 1048576 bytes$/,
      );
      expect(Number(/\((\d+) bytes/.exec(error.message)![1]) % loader.TaskRec.size).toBe(0);
    } finally {
      link.close();
    }
  });
});

describe('attachIter({ map })', () => {
  it('a map iterator walks the map it is given, and without one is a UsageError', async (ctx) => {
    const mapLoader = await generated<MapLoader>('iter_map', ['kv']);
    let mapObjects: MapObjects;
    try {
      mapObjects = await mapLoader.loadIterMap();
    } catch (error) {
      // Linux 6.18 here refuses every iter/bpf_map_elem program at load, before verifying it.
      const e = error as Error;
      expect(e.constructor.name).toBe('PermissionError');
      expect(e.message).toMatch(/^load program dump_counts: operation not permitted \(EPERM\)/);
      ctx.skip('this kernel refuses iter/bpf_map_elem programs (EPERM at load): no map element iterator');
      return;
    }
    await using _ = mapObjects;
    const { dumpCounts } = mapObjects.programs;
    const noMap = errorOf(() => dumpCounts.attachIter());
    expect(noMap.constructor.name).toBe('UsageError');
    expect(noMap.message).toBe(
      'program dump_counts: SEC("iter/bpf_map_elem") walks a map, and none was given',
    );
    expect(noMap.hint).toBe('name it: attachIter({ map: objects.maps.<name> })');
    const values = new Map([
      [1, 10n],
      [7, 70n],
      [42, 4200n],
    ]);
    for (const [k, v] of values) mapObjects.maps.counts.set(k, v);
    const link = dumpCounts.attachIter({ map: mapObjects.maps.counts });
    try {
      const seen = link.readRecords(mapLoader.Kv).map((r) => [r.key, r.value] as const);
      expect(new Map(seen)).toEqual(values);
    } finally {
      link.close();
    }
  });
});
