// closeAsync(): twenty real attachments (sixteen syscall tracepoints, four libc uprobes) detached
// on worker threads. Each detach waits in the kernel for an RCU grace period; close() makes the
// event loop wait through all of them, closeAsync() does not. How long each side stalls the loop is
// a benchmark figure (bench/benchmarks/detach.js); here the loop's turns are only counted:
// close() leaves no turn to anything (it is one synchronous call), closeAsync() cannot finish
// without several (each detach's completion comes back through the loop).
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import { type Collection, CollectionSpec, UsageError } from '../../src/runtime/index.js';
import { closeAllLinks, liveLinkCount } from '../../src/runtime/lifetime.js';
import { repoRoot, tempDir } from '../helpers/paths.js';
import { fixture, kernelLinkIds, kernelLinksOf } from './helpers.js';

const uprobes = [
  ['up_getppid', 'getppid'],
  ['uret_getppid', 'getppid'],
  ['up_getpid', 'getpid'],
  ['uret_getpid', 'getpid'],
] as const;

/** The detach fixture loaded, every program attached: 20 links. */
async function attachAll(): Promise<Collection> {
  const coll = await CollectionSpec.fromBytes(fixture('detach')).load();
  for (const name of coll.programNames) {
    const uprobe = uprobes.find(([program]) => program === name);
    if (uprobe) coll.program(name).attachUprobe({ binary: 'libc.so.6', symbol: uprobe[1], pid: process.pid });
    else coll.program(name).attach();
  }
  return coll;
}

/** The process's open fds, by number. */
const fds = () => new Set(readdirSync('/proc/self/fd'));

/** Counts the event loop's turns (setImmediate runs once a turn) until stop() is called. */
function loopTurns(): { stop(): number } {
  let turns = 0;
  let timer = setImmediate(function tick() {
    turns++;
    timer = setImmediate(tick);
  });
  return {
    stop() {
      clearImmediate(timer);
      return turns;
    },
  };
}

describe('closeAsync', () => {
  it('detaches 20 tracepoints and uprobes off the main thread: every link and fd gone after', async () => {
    const before = fds();
    const coll = await attachAll();
    expect(kernelLinksOf(process.pid)).toHaveLength(20);
    // The attachments are real: getppid(2) through libc fires its tracepoints and uprobes.
    const hits = coll.dataSection('.bss')!;
    const counts = () => Array.from(new BigUint64Array(hits.buffer, hits.byteOffset, 20));
    process.ppid;
    expect(counts()[0]).toBeGreaterThan(0n);
    expect(counts()[1]).toBeGreaterThan(0n);
    expect(counts()[16]).toBeGreaterThan(0n);
    expect(counts()[17]).toBeGreaterThan(0n);

    const turns = loopTurns();
    const closing = coll.closeAsync();
    // Closed at once for the caller, whatever the workers still do.
    expect(coll.closed).toBe(true);
    expect(() => coll.program('tp_sys_enter_getppid')).toThrow(UsageError);
    await closing;
    expect(turns.stop()).toBeGreaterThan(0);

    expect(kernelLinksOf(process.pid)).toEqual([]);
    expect(liveLinkCount()).toBe(0);
    expect(fds()).toEqual(before);
  });

  it('close() of the same twenty holds the event loop for all of it (the contrast)', async () => {
    const before = fds();
    const coll = await attachAll();
    const turns = loopTurns();
    coll.close();
    expect(turns.stop()).toBe(0);
    expect(kernelLinksOf(process.pid)).toEqual([]);
    expect(fds()).toEqual(before);
  });

  it('is safe twice, and close() after it or during it does nothing more', async () => {
    const before = fds();
    const coll = await attachAll();
    const first = coll.closeAsync();
    expect(coll.closeAsync()).toBe(first);
    coll.close();
    coll[Symbol.dispose]();
    await first;
    await coll.closeAsync();
    await coll[Symbol.asyncDispose]();
    expect(kernelLinksOf(process.pid)).toEqual([]);
    expect(fds()).toEqual(before);
  });

  it('detaches a few at a time; closing every link meanwhile detaches at once those still waiting', async () => {
    const before = fds();
    const coll = await attachAll();
    const closing = coll.closeAsync();
    // What the 'exit' listener does: the detaches not yet on a worker are made here, now, so only
    // those a worker has (half of Node's pool, 2 by default) can still be attached.
    closeAllLinks();
    const atOnce = Math.max(1, Math.floor(Number(process.env.UV_THREADPOOL_SIZE || 4) / 2));
    expect(kernelLinksOf(process.pid).length).toBeLessThanOrEqual(atOnce);
    await closing;
    expect(kernelLinksOf(process.pid)).toEqual([]);
    expect(liveLinkCount()).toBe(0);
    expect(fds()).toEqual(before);
  });

  it('closeAsync() after close() resolves at once', async () => {
    const coll = await attachAll();
    coll.close();
    await expect(coll.closeAsync()).resolves.toBeUndefined();
  });

  it('a link: closeAsync twice is one close, close() after it does nothing, the collection forgets it', async () => {
    const before = fds();
    const coll = await attachAll();
    // A 21st link: a program can be attached once per tracepoint, so to another one.
    const link = coll.program('tp_sys_enter_getppid').attachTracepoint('syscalls', 'sys_enter_getpid');
    expect(kernelLinksOf(process.pid)).toHaveLength(21);
    const turns = loopTurns();
    const first = link.closeAsync();
    expect(link.closed).toBe(true);
    expect(link.closeAsync()).toBe(first);
    link.close();
    await first;
    expect(turns.stop()).toBeGreaterThan(0);
    expect(kernelLinksOf(process.pid)).toHaveLength(20);
    // A link closed on its own is not closed again with the collection.
    await coll.closeAsync();
    expect(kernelLinksOf(process.pid)).toEqual([]);
    expect(fds()).toEqual(before);
  });

  it('`await using` detaches through closeAsync', async () => {
    const before = fds();
    let turns: { stop(): number };
    {
      await using coll = await attachAll();
      expect(kernelLinksOf(process.pid)).toHaveLength(20);
      expect(coll.closed).toBe(false);
      // Counted from here, across the disposal at the block's end: a synchronous close() there
      // would leave the loop no turn.
      turns = loopTurns();
    }
    expect(turns.stop()).toBeGreaterThan(0);
    expect(kernelLinksOf(process.pid)).toEqual([]);
    expect(fds()).toEqual(before);
  });

  it("detaches on the main thread when koffi's queue of async calls is full: no link stays attached", async () => {
    const before = fds();
    const coll = await attachAll();
    // Fill koffi's queue (max_async_calls, 256 by default) with short sleeps until it refuses one.
    const usleep = koffi.load('libc.so.6').func('int usleep(unsigned int)');
    const drained: Promise<void>[] = [];
    let full = false;
    for (let i = 0; i < 10_000 && !full; i++) {
      let done = () => {};
      const sleeping = new Promise<void>((resolve) => {
        done = resolve;
      });
      try {
        usleep.async(20_000, () => done());
        drained.push(sleeping);
      } catch {
        full = true;
      }
    }
    expect(full).toBe(true);
    await coll.closeAsync();
    expect(kernelLinksOf(process.pid)).toEqual([]);
    await Promise.all(drained);
    expect(fds()).toEqual(before);
  });

  it('a process that exits while closeAsync runs exits cleanly and leaves no link behind', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'detach.o'), fixture('detach'));
    // The child attaches, says so, and when told, starts closeAsync() and exits while it runs:
    // two detaches are on workers then, the other eighteen are closed by tsbpf's 'exit' listener.
    const script = `
import { readFileSync } from 'node:fs';
import { CollectionSpec } from ${JSON.stringify(join(repoRoot, 'dist/runtime/index.js'))};
const coll = await CollectionSpec.fromBytes(readFileSync(${JSON.stringify(join(dir, 'detach.o'))})).load();
const uprobes = ${JSON.stringify(Object.fromEntries(uprobes))};
for (const name of coll.programNames) {
  if (uprobes[name]) coll.program(name).attachUprobe({ binary: 'libc.so.6', symbol: uprobes[name] });
  else coll.program(name).attach();
}
console.log('attached');
process.stdin.once('data', () => {
  const closing = coll.closeAsync();
  closing.then(() => console.log('finished before exit'));
  setImmediate(() => process.exit(0));
});
`;
    writeFileSync(join(dir, 'child.mjs'), script);
    const child = spawn(process.execPath, [join(dir, 'child.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    let held: number[] = [];
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('attached') && held.length === 0) {
        held = kernelLinksOf(child.pid!);
        child.stdin.write('go\n');
      }
    });
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(held).toHaveLength(20);
    expect(out).not.toContain('finished before exit');
    expect(kernelLinkIds().filter((id) => held.includes(id))).toEqual([]);
  });
});
