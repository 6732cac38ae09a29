// uretprobe on bash's readline + perf event array: an interactive bash in a pty (script(1)) reads
// lines we feed it, and each line arrives as an event.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CollectionSpec, cstring, PerfEventArray, u32 } from '../../src/runtime/index.js';
import { fixture, getppid } from './helpers.js';

// struct line_event { __u32 pid; __u32 len; char line[80]; } from perf.bpf.c
const LineEvent = {
  size: 88,
  decode: (b: Uint8Array, o = 0) => ({
    pid: u32.decode(b, o),
    len: u32.decode(b, o + 4),
    line: cstring(80).decode(b, o + 8),
  }),
  encode: (): Uint8Array => {
    throw new Error('not needed');
  },
  encodeInto: (): void => {
    throw new Error('not needed');
  },
};

describe('uretprobe + perf event array', () => {
  it('sizes a perf event array declared with key/value types as 4/4', () => {
    const spec = CollectionSpec.fromBytes(fixture('perf'));
    const lines = spec.maps.get('lines')!;
    expect([lines.typeName, lines.keySize, lines.valueSize, lines.declaredValueSize]).toEqual([
      'perfEventArray',
      4,
      4,
      88,
    ]);
    spec.close();
  });

  it('reads the lines an interactive bash reads', async () => {
    await using coll = await CollectionSpec.fromBytes(fixture('perf')).load();
    coll.program('bash_readline').attachUprobe({ binary: 'bash', symbol: 'readline', retprobe: true });
    const reader = new PerfEventArray(coll.map('lines'), LineEvent).reader();
    const bash = spawn('script', ['-qfc', 'bash --norc --noprofile -i', '/dev/null'], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    const wanted = ['echo tsbpf-one', 'echo tsbpf-two', 'true tsbpf-three'];
    // Type only once bash has printed its prompt (its first output): a slow machine (the qemu
    // kernel matrix) may take seconds to start it.
    bash.stdout.once('data', () => {
      for (const line of wanted) bash.stdin.write(`${line}\n`);
    });
    bash.stdout.resume();
    // If the lines never come, end the loop so the assertions below say what was seen.
    const giveUp = setTimeout(() => reader.close(), 90_000);
    const seen: string[] = [];
    try {
      for await (const e of reader) {
        if (e.line.includes('tsbpf-')) seen.push(e.line);
        expect(e.len).toBe(Buffer.byteLength(e.line));
        if (seen.length === wanted.length) break;
      }
    } finally {
      clearTimeout(giveUp);
      bash.stdin.end('exit\n');
      bash.kill();
    }
    // One perf buffer per CPU: bash may run each readline on another CPU, and records of
    // different CPUs have no order between them. Each line arrives exactly once.
    expect([...seen].sort()).toEqual([...wanted].sort());
    expect(reader.lost).toBe(0);
  });

  it('resolves a library by name as the dynamic linker does and filters by pid', async () => {
    await using coll = await CollectionSpec.fromBytes(fixture('perf')).load();
    // Any function works for the probe: the program only reads the (here meaningless) return value.
    coll
      .program('bash_readline')
      .attachUprobe({ binary: 'libc.so.6', symbol: 'getppid', retprobe: true, pid: process.pid });
    const reader = new PerfEventArray(coll.map('lines'), LineEvent).reader();
    const poke = setInterval(() => getppid(), 20);
    try {
      for await (const e of reader) {
        expect(e.pid).toBe(process.pid);
        break;
      }
    } finally {
      clearInterval(poke);
    }
  });
});
