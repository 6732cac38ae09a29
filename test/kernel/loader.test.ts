// Generated loaders against the kernel: `tsbpf gen` writes <ident>.ts into a temporary project
// whose 'tsbpf' is this repository, and the test imports it as a user's program would.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import koffi from 'koffi';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixture, importLoader, tempProject, tsbpf, vmlinuxArgs } from '../fixtures/gen/helpers.js';

const libc = koffi.load('libc.so.6');
const getppid = libc.func('int getppid(void)') as () => number;
const getpgid = libc.func('int getpgid(int)') as (pid: number) => number;

/** Runs `tsbpf gen` and fails the test with its stderr when it fails. */
async function gen(dir: string, args: string[]): Promise<void> {
  const result = await tsbpf(['gen', ...args, ...vmlinuxArgs()], dir);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
}

/** Resolves with what `until` accepts from the iterable, or rejects after `ms`. */
async function collect<E>(
  events: AsyncIterable<E>,
  until: (seen: E[]) => boolean,
  ms = 20_000,
): Promise<E[]> {
  const seen: E[] = [];
  const timeout = new Promise<never>((_, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out; got ${JSON.stringify(seen, bigints)}`)), ms);
    timer.unref();
  });
  const reading = (async () => {
    for await (const event of events) {
      seen.push(event);
      if (until(seen)) break;
    }
    return seen;
  })();
  return Promise.race([reading, timeout]);
}

const bigints = (_: string, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value);

// The shapes of the generated loaders, as far as the tests use them (the real types live in the
// generated files, which this test imports at run time).
interface Variable<T> {
  get(): T;
  set(value: T): void;
}
interface Reader<E> extends AsyncIterable<E> {
  close(): void;
}
interface Objects extends AsyncDisposable {
  close(): void;
}

describe('the write-up example: uretprobe on bash readline through a perf event array', () => {
  interface Event {
    pid: number;
    line: string;
  }
  interface ProbeObjects extends Objects {
    programs: { uretprobeBashReadline: { attach(): { close(): void } } };
    maps: {
      events: { reader(): Reader<Event> };
      counts: {
        get(pid: number): bigint | undefined;
        set(pid: number, n: bigint): void;
        delete(pid: number): boolean;
      };
    };
    variables: { minLength: { get(): number } };
  }
  interface ProbeSpec {
    variables: { minLength: Variable<number> };
    load(): Promise<ProbeObjects>;
  }
  let loader: { loadProbeSpec(): Promise<ProbeSpec> };

  beforeAll(async () => {
    const dir = tempProject();
    // struct event is only used on the stack: --event makes tsbpf find it (types-only compile).
    await gen(dir, ['probe', fixture('readline.c'), '--event', 'events=event']);
    loader = await importLoader(join(dir, 'probe.ts'));
  });

  it('reads the lines bash reads as typed events; a .rodata constant set before load filters them', async () => {
    const spec = await loader.loadProbeSpec();
    spec.variables.minLength.set(3);
    await using objs = await spec.load();
    expect(objs.variables.minLength.get()).toBe(3);
    objs.programs.uretprobeBashReadline.attach();
    const reader = objs.maps.events.reader();

    const marker = `tsbpf-${process.pid}`;
    const bash = spawn('script', ['-qfc', 'bash --norc --noprofile -i', '/dev/null'], {
      stdio: ['pipe', 'ignore', 'ignore'],
      env: { ...process.env, PS1: '$ ', TERM: 'dumb' },
    });
    try {
      // 'ab' is shorter than min_length (3): the program drops it. Other shells on the machine may
      // be traced too, so our events are told apart by the shell's pid, learnt from the marker.
      // The shell is told to exit only after the count is checked: 'exit' is a line it counts too.
      const lines = ['ab', `echo ${marker}-1`, `echo ${marker}-2`, `echo ${marker}-end`];
      const feed = setInterval(() => {
        const line = lines.shift();
        if (line === undefined) clearInterval(feed);
        else bash.stdin.write(`${line}\n`);
      }, 300);
      const events = await collect(reader, (seen) => seen.some((e) => e.line === `echo ${marker}-end`));
      clearInterval(feed);

      const pid = events.find((e) => e.line.includes(marker))?.pid ?? 0;
      expect(pid).toBeGreaterThan(0);
      const ours = events.filter((e) => e.pid === pid);
      expect(ours.map((e) => e.line)).toEqual([`echo ${marker}-1`, `echo ${marker}-2`, `echo ${marker}-end`]);

      // The hash map of __u32 -> __u64 is a HashMap<number, bigint>: the program counted 3 lines.
      expect(objs.maps.counts.get(pid)).toBe(3n);
      objs.maps.counts.set(pid, 41n);
      expect(objs.maps.counts.get(pid)).toBe(41n);
      expect(objs.maps.counts.delete(pid)).toBe(true);
      expect(objs.maps.counts.get(pid)).toBeUndefined();
    } finally {
      reader.close();
      bash.stdin.end('exit\n');
      bash.kill();
    }
  });
});

interface RingEvent {
  pid: number;
  seq: number;
  value: bigint;
  comm: string;
}
interface RingObjects extends Objects {
  programs: { onGetppid: { attach(): { close(): void } } };
  maps: {
    events: { reader(): Reader<RingEvent> };
    settings: {
      get(i: number): { add: bigint; enabled: number };
      set(i: number, v: { add: bigint; enabled: number }): void;
    };
    calls: { get(pid: number): bigint | undefined };
  };
  variables: { targetPid: { get(): number }; multiplier: { get(): bigint }; nextSeq: Variable<number> };
}
interface RingSpec {
  variables: { targetPid: Variable<number>; multiplier: Variable<bigint> };
  maps: { calls: { maxEntries: number } };
  load(): Promise<RingObjects>;
}

/** Loads a generated ring.ts, sets its constants, and reads `n` events of this process. */
async function runRing(
  loader: { loadRingSpec(): Promise<RingSpec> },
  multiplier: bigint,
): Promise<RingEvent[]> {
  const spec = await loader.loadRingSpec();
  spec.variables.targetPid.set(process.pid);
  spec.variables.multiplier.set(multiplier);
  await using objs = await spec.load();
  objs.programs.onGetppid.attach();
  // Typed array map of struct settings, written from TypeScript, read by the program.
  objs.maps.settings.set(0, { add: 5n, enabled: 1 });
  expect(objs.maps.settings.get(0)).toEqual({ add: 5n, enabled: 1 });
  const reader = objs.maps.events.reader();
  for (let i = 0; i < 4; i++) getppid();
  const events = await collect(reader, (seen) => seen.length === 4);
  reader.close();
  expect(objs.maps.calls.get(process.pid)).toBe(4n);
  // .bss is live: the program's counter, and a write the program then continues from.
  expect(objs.variables.nextSeq.get()).toBe(4);
  objs.variables.nextSeq.set(100);
  objs.maps.settings.set(0, { add: 0n, enabled: 1 });
  const again = objs.maps.events.reader();
  getppid();
  const [late] = await collect(again, (seen) => seen.length === 1);
  again.close();
  expect(late?.seq).toBe(100);
  return events;
}

describe('a ring buffer tracepoint through the generated loader', () => {
  it('decodes typed events; .rodata constants, typed array and hash maps, live .bss', async () => {
    const dir = tempProject();
    await gen(dir, ['ring', fixture('ring.c'), '--event', 'events=event']);
    const loader = await importLoader<{ loadRingSpec(): Promise<RingSpec> }>(join(dir, 'ring.ts'));
    const events = await runRing(loader, 3n);
    expect(events.map((e) => e.seq)).toEqual([0, 1, 2, 3]);
    expect(events.every((e) => e.pid === process.pid)).toBe(true);
    // value = seq * multiplier (.rodata, set before load) + settings.add (array map, set after)
    expect(events.map((e) => e.value)).toEqual([5n, 8n, 11n, 14n]);
    expect(events[0]!.comm.length).toBeGreaterThan(0);
  });

  it('loads the same program from an --embed loader (no object files beside it)', async () => {
    const dir = tempProject();
    await gen(dir, ['ring', fixture('ring.c'), '--event', 'events=event', '--embed']);
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(dir).filter((f) => f.endsWith('.o'))).toEqual([]);
    const loader = await importLoader<{ loadRingSpec(): Promise<RingSpec> }>(join(dir, 'ring.ts'));
    const events = await runRing(loader, 10n);
    expect(events.map((e) => e.value)).toEqual([5n, 15n, 25n, 35n]);
  });

  it('resizes a map through the spec before load', async () => {
    const dir = tempProject();
    await gen(dir, ['ring', fixture('ring.c'), '--event', 'events=event']);
    const loader = await importLoader<{ loadRingSpec(): Promise<RingSpec> }>(join(dir, 'ring.ts'));
    const spec = await loader.loadRingSpec();
    expect(spec.maps.calls.maxEntries).toBe(64);
    spec.maps.calls.maxEntries = 128;
    await using objs = await spec.load();
    const info = (
      objs as unknown as { collection: { map(n: string): { maxEntries: number } } }
    ).collection.map('calls');
    expect(info.maxEntries).toBe(128);
  });
});

describe('several C files linked into one object', () => {
  it('loads both programs, sharing a map and a .rodata constant across files', async () => {
    const dir = tempProject();
    // libbpf 1.1's linker links only objects of the host's byte order.
    await gen(dir, ['linked', fixture('link_main.c'), fixture('link_util.c'), '--target', 'bpfel']);
    interface Linked {
      loadLinkedSpec(): Promise<{
        variables: { targetPid: Variable<number> };
        load(): Promise<
          Objects & {
            programs: { onGetppid: { attach(): unknown }; onGetpgid: { attach(): unknown } };
            maps: { hits: { get(i: number): bigint } };
          }
        >;
      }>;
    }
    const loader = await importLoader<Linked>(join(dir, 'linked.ts'));
    const spec = await loader.loadLinkedSpec();
    spec.variables.targetPid.set(process.pid);
    await using objs = await spec.load();
    objs.programs.onGetppid.attach();
    objs.programs.onGetpgid.attach();
    for (let i = 0; i < 3; i++) getppid();
    for (let i = 0; i < 2; i++) getpgid(0);
    expect([objs.maps.hits.get(0), objs.maps.hits.get(1)]).toEqual([3n, 2n]);
  });
});
