// Issue 11 end to end: a program written the way public examples are (an event type only used
// locally, a cilium-style typed ring buffer, variable-length records, an optional fentry
// program, a newer-header macro) goes through `tsbpf gen` unchanged, loads, and its events
// arrive typed.
import { join } from 'node:path';
import koffi from 'koffi';
import { beforeAll, describe, expect, it } from 'vitest';
import { importLoader, tempProject, tsbpf, vmlinuxArgs } from '../fixtures/gen/helpers.js';
import { repoRoot } from '../helpers/paths.js';

const source = join(repoRoot, 'test', 'fixtures', 'realworld', 'realworld.bpf.c');
const getppid = koffi.load('libc.so.6').func('int getppid(void)') as () => number;

interface Reader<E> extends AsyncIterable<E> {
  readAvailable(max?: number): E[];
  close(): void;
}
interface Objects {
  programs: Record<string, { attach(): { close(): void } }>;
  maps: {
    localEvents: { reader(): Reader<{ pid: number; cookie: bigint; comm: string }> };
    typedEvents: { reader(): Reader<{ pid: number; tag: number }> };
    varEvents: { reader(): Reader<Uint8Array> };
  };
  skipped: { program: string; reason: string }[];
  close(): void;
}
interface Spec {
  variables: { targetPid: { set(value: number): void } };
  load(options?: { optionalPrograms?: 'fail' | 'skip-unsupported' }): Promise<Objects>;
}
interface Loader {
  loadRealworldSpec(): Promise<Spec>;
  loadRealworld(options?: { optionalPrograms?: 'fail' | 'skip-unsupported' }): Promise<Objects>;
  RwRecord: {
    minSize: number;
    decodeWithLength(bytes: Uint8Array): {
      value: { pid: number; len: number; data: string };
      length: number;
    };
  };
}

/** Waits until `take` returns a value for the records available on `reader`. */
async function first<E>(reader: Reader<E>, trigger: () => void): Promise<E> {
  for (let attempt = 0; attempt < 100; attempt++) {
    trigger();
    const [event] = reader.readAvailable(1);
    if (event !== undefined) return event;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('no event arrived');
}

describe('real-world C programs (issue 11)', () => {
  let loader: Loader;
  let genOutput: string;

  beforeAll(async () => {
    const dir = tempProject('tsbpf-realworld-');
    const result = await tsbpf(
      [
        'gen',
        'realworld',
        source,
        '--event',
        'local_events=rw_event',
        '--type',
        'rw_record',
        ...vmlinuxArgs(),
      ],
      dir,
    );
    genOutput = result.stdout + result.stderr;
    expect(result.code, genOutput).toBe(0);
    loader = await importLoader<Loader>(join(dir, 'realworld.ts'));
  });

  it('finds an event type the object BTF lacks, and a typed ring buffer decodes by its declared type', async () => {
    const spec = await loader.loadRealworldSpec();
    spec.variables.targetPid.set(process.pid);
    const objects = await spec.load({ optionalPrograms: 'skip-unsupported' });
    try {
      const link = objects.programs.onGetppid!.attach();
      const local = objects.maps.localEvents.reader();
      const typed = objects.maps.typedEvents.reader();
      const localEvent = await first(local, getppid);
      expect(localEvent).toEqual({ pid: process.pid, cookie: 0x1122334455667788n, comm: expect.any(String) });
      expect(localEvent.comm.length).toBeGreaterThan(0);
      expect(await first(typed, getppid)).toEqual({ pid: process.pid, tag: 42 });
      local.close();
      typed.close();
      link.close();
    } finally {
      objects.close();
    }
  });

  it('decodes a record shorter than its type and says how many bytes it used', async () => {
    const spec = await loader.loadRealworldSpec();
    spec.variables.targetPid.set(process.pid);
    const objects = await spec.load({ optionalPrograms: 'skip-unsupported' });
    try {
      const link = objects.programs.onGetppid!.attach();
      const reader = objects.maps.varEvents.reader();
      const record = await first(reader, getppid);
      expect(record.length).toBe(14); // 8 fixed bytes + "hello\0"
      const { value, length } = loader.RwRecord.decodeWithLength(record);
      expect(value).toMatchObject({ pid: process.pid, len: 6, data: 'hello' });
      expect(length).toBe(14);
      expect(() => loader.RwRecord.decodeWithLength(record.subarray(0, 6))).toThrow(/rw_record/);
      reader.close();
      link.close();
    } finally {
      objects.close();
    }
  });

  it('loads what the kernel supports and reports the optional program it skipped', async () => {
    const objects = await loader.loadRealworld({ optionalPrograms: 'skip-unsupported' });
    try {
      const skipped = objects.skipped.map((s) => s.program);
      // fentry loads on kernels that allow it; where refused, it is skipped with the reason.
      for (const entry of objects.skipped)
        expect(entry.reason).toMatch(/fentry|tracing|EPERM|not supported/i);
      expect(skipped.every((name) => name === 'fentry_unlinkat')).toBe(true);
      expect(skipped).not.toContain('on_readline'); // BPF_URETPROBE from tsbpf's headers loaded
      expect(skipped).not.toContain('on_getppid');
    } finally {
      objects.close();
    }
  });
});
