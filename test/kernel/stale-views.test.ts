// Views of mapped memory kept past close: a data section's Uint8Array, a ring buffer's or perf
// ring's record bytes (RecordView.$bytes and arrays over it), read or written after the collection
// or reader closed, or after it was garbage-collected without close(). Before, each read hit memory
// that libbpf or the reader had unmapped, and the process died by SIGSEGV; now the range stays
// mapped until the views are gone (data sections with their last values, rings with zero pages),
// and the accessors throw. Each case runs in a child process, so a crash shows as the child's
// signal instead of ending the test run.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers/paths.js';
import { fixture } from './helpers.js';

const runtime = join(repoRoot, 'dist/runtime/index.js');

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  result: Record<string, unknown>;
}

/** Runs `body` after the prelude in a child node (with gc() exposed); it ends by calling done(). */
function child(body: string): Promise<Outcome> {
  const dir = tempDir();
  writeFileSync(join(dir, 'stale.o'), fixture('stale'));
  writeFileSync(
    join(dir, 'child.mjs'),
    `${prelude}\n${body}`.replaceAll('RUNTIME', runtime).replaceAll('OBJECT', join(dir, 'stale.o')),
  );
  const proc = spawn(process.execPath, ['--expose-gc', join(dir, 'child.mjs')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let stderr = '';
  proc.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  proc.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      const line = out.split('\n').find((l) => l.startsWith('result '));
      resolve({ code, signal, stderr, result: line ? JSON.parse(line.slice(7)) : {} });
    });
  });
}

// The child: the stale fixture loaded for this process and attached; trigger() makes n events.
const prelude = `
import { readFileSync } from 'node:fs';
import { CollectionSpec, PerfEventArray, RingBuf, Variable, u64 } from 'RUNTIME';
/** The fixture loaded and attached for this process. An attached link keeps its collection reachable
 * (lifetime.ts tracks it), so the GC cases close it; they work inside functions, so no suspended
 * frame of theirs still holds the collection when they collect. */
const open = async () => {
  const spec = CollectionSpec.fromBytes(readFileSync('OBJECT'), { name: 'stale' });
  new DataView(spec.dataSection('.rodata').buffer).setUint32(0, process.pid, true);
  const coll = await spec.load();
  return { coll, link: coll.program('on_getppid').attach() };
};
const trigger = (n = 1) => { for (let i = 0; i < n; i++) process.ppid; };
const sum = (bytes) => bytes.reduce((a, b) => a + b, 0);
/** The error fn throws, as { name, message }; undefined when it does not throw. */
const thrown = (fn) => { try { fn(); } catch (e) { return { name: e.name, message: e.message }; } };
/** Runs the finalizers of what is unreachable now (they run in a later task than gc()). */
const collect = async () => { for (let i = 0; i < 5; i++) { gc(); await new Promise((r) => setTimeout(r, 10)); } };
const done = (result) => { console.log('result ' + JSON.stringify(result, (k, v) => typeof v === 'bigint' ? String(v) : v)); process.exit(0); };
`;

/** A child that ran to its end: not killed by a signal, and it reported. */
function expectSurvived(outcome: Outcome): Record<string, unknown> {
  expect(outcome.signal, outcome.stderr).toBeNull();
  expect(outcome.code, outcome.stderr).toBe(0);
  return outcome.result;
}

const closedError = (what: RegExp) => ({ name: 'UsageError', message: expect.stringMatching(what) });

describe('views of mapped memory after close', () => {
  it('data sections (.bss, .data): kept views keep the last values after close(); the accessors throw', async () => {
    const result = expectSurvived(
      await child(`
const { coll } = await open();
trigger(3);
const bss = coll.dataSection('.bss');
const data = coll.dataSection('.data');
const dataView = new DataView(data.buffer, data.byteOffset, data.byteLength);
const magic = new Variable(() => coll.dataSection('.data'), 0, u64);
const before = { calls: u64.decode(bss, 0), magic: magic.get() };
coll.close();
trigger(2); // the programs are detached and their map is gone: nothing changes the copy
const after = { calls: u64.decode(bss, 0), length: bss.byteLength, magic: dataView.getBigUint64(0, true) };
bss[0] = 1; // a write lands in pages of its own, not in anyone's memory
after.written = bss[0];
done({ before, after, section: thrown(() => coll.dataSection('.bss')), variable: thrown(() => magic.get()) });
`),
    );
    expect(result.before).toEqual({ calls: '3', magic: String(0x5eed5eed5eed5eedn) });
    // .bss: u64 calls, u32 kernel_version
    expect(result.after).toEqual({ calls: '3', length: 12, magic: String(0x5eed5eed5eed5eedn), written: 1 });
    expect(result.section).toEqual(closedError(/collection stale is closed/));
    expect(result.variable).toEqual(closedError(/collection stale is closed/));
  });

  it('data sections of a collection garbage-collected without close()', async () => {
    const result = expectSurvived(
      await child(`
const { bss, before } = await (async () => {
  const { coll, link } = await open();
  trigger(2);
  const bss = coll.dataSection('.bss');
  link.close();
  return { bss, before: u64.decode(bss, 0) };
})();
await collect();
done({ before, after: u64.decode(bss, 0) });
`),
    );
    expect(result).toEqual({ before: '2', after: '2' });
  });

  it('read-only sections (.rodata, .kconfig) are copies: writing one changes nothing and crashes nothing', async () => {
    const result = expectSurvived(
      await child(`
const { coll } = await open();
trigger(1);
const kconfig = coll.dataSection('.kconfig');
const version = new DataView(kconfig.buffer, kconfig.byteOffset).getUint32(0, true);
kconfig.fill(0);
const rodata = coll.dataSection('.rodata');
rodata.fill(0);
const again = coll.dataSection('.kconfig');
done({
  version,
  again: new DataView(again.buffer, again.byteOffset).getUint32(0, true),
  pid: new DataView(coll.dataSection('.rodata').buffer).getUint32(0, true) === process.pid,
});
`),
    );
    expect(result.version).toBeGreaterThan(0);
    expect(result.again).toBe(result.version);
    expect(result.pid).toBe(true);
  });

  for (const [kind, make] of [
    ['ring buffer', "new RingBuf(coll.map('ring')).reader()"],
    ['perf event array', "new PerfEventArray(coll.map('perf')).reader(undefined, { pageCount: 4 })"],
  ] as const) {
    it(`${kind}: record bytes kept past reader.close() read zeros`, async () => {
      const result = expectSurvived(
        await child(`
const { coll } = await open();
const reader = ${make};
trigger(4);
let ring, record, view;
const n = reader.consume((e) => {
  ring = e.$bytes;
  view = e.$view;
  record = e.$bytes.subarray(e.$offset, e.$offset + e.$length);
});
const before = { n, length: record.length, magic: new DataView(record.buffer, record.byteOffset).getBigUint64(8, true) };
reader.close();
const after = { record: sum(record), length: record.length, ring: sum(ring.subarray(0, 4096)), view: view.getUint32(0, true) };
done({ before, after, again: reader.readAvailable().length });
`),
      );
      // A perf sample's raw bytes are padded to keep records 8-byte aligned: 20 for a 16-byte event.
      const length = kind === 'ring buffer' ? 16 : 20;
      expect(result.before).toEqual({ n: 4, length, magic: String(0x5eed5eed5eed5eedn) });
      expect(result.after).toEqual({ record: 0, length, ring: 0, view: 0 });
      expect(result.again).toBe(0);
    });

    it(`${kind}: record bytes kept past the collection's close() read zeros; the map throws`, async () => {
      const result = expectSurvived(
        await child(`
const { coll } = await open();
const reader = ${make};
trigger(2);
let record;
reader.consume((e) => { record = e.$bytes.subarray(e.$offset, e.$offset + e.$length); });
coll.close();
done({ closed: reader.closed, after: sum(record), map: thrown(() => coll.map('ring')) });
`),
      );
      expect(result).toEqual({ closed: true, after: 0, map: closedError(/collection stale is closed/) });
    });

    // A reader is reachable from its map until the collection goes: both are dropped here.
    it(`${kind}: record bytes kept past a reader garbage-collected without close()`, async () => {
      const result = expectSurvived(
        await child(`
const record = await (async () => {
  const { coll, link } = await open();
  const reader = ${make};
  trigger(2);
  let record;
  reader.consume((e) => { record = e.$bytes.subarray(e.$offset, e.$offset + e.$length); });
  link.close();
  return record;
})();
const before = sum(record);
await collect();
done({ before: before > 0, after: sum(record) });
`),
      );
      expect(result).toEqual({ before: true, after: 0 });
    });
  }
});
