#!/usr/bin/env node
// Soaks the runtime (issue 8): load/attach/close cycles, map operations, and a ring buffer whose
// reader is slower than its producer. Prints fd counts and RSS before/after, rates and losses;
// exits 1 when a figure shows a leak or a miscount. Run as root after `npm run build`:
//   node --expose-gc bench/soak.mjs                 # the full run (a few minutes)
//   node --expose-gc bench/soak.mjs --quick --json  # the bounded run test/reliability/soak.test.ts uses
// Options: --cycles N, --attach-cycles N, --map-ops N, --events N, --json, --quick.
import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    cycles: { type: 'string' },
    'attach-cycles': { type: 'string' },
    'map-ops': { type: 'string' },
    events: { type: 'string' },
  },
});
const cycles = Number(opts.cycles ?? (opts.quick ? 1_000 : 10_000));
// Attached cycles are bound by the kernel: closing a perf-event link (tracepoint, uprobe) waits for
// an RCU grace period, 50-100 ms here, so they are fewer than the load/close cycles.
const attachCycles = Number(opts['attach-cycles'] ?? (opts.quick ? 40 : 2_000));
const mapOps = Number(opts['map-ops'] ?? (opts.quick ? 100_000 : 1_000_000));
const events = Number(opts.events ?? (opts.quick ? 200_000 : 10_000_000));

const { CollectionSpec, HashMap, RingBuf, u32, u64 } = await import(join(root, 'dist/runtime/index.js'));
const { clangArgs, defaultIncludeDirs } = await import(join(root, 'dist/toolchain/flags.js'));
const { resolveTargets } = await import(join(root, 'dist/toolchain/targets.js'));

const log = (...args) => {
  if (!opts.json) console.log(...args);
};

function compile(name) {
  const cache = join(tmpdir(), 'tsbpf-soak');
  const vmlinux = join(cache, 'vmlinux');
  mkdirSync(vmlinux, { recursive: true });
  if (!existsSync(join(vmlinux, 'vmlinux.h'))) {
    const text = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
      maxBuffer: 1 << 28,
    });
    writeFileSync(join(vmlinux, `vmlinux.h.${process.pid}`), text);
    renameSync(join(vmlinux, `vmlinux.h.${process.pid}`), join(vmlinux, 'vmlinux.h'));
  }
  const out = join(cache, `${name}.${process.pid}.o`);
  const args = clangArgs({
    target: resolveTargets(['bpfel'])[0],
    source: join(root, 'test/reliability/fixtures', `${name}.bpf.c`),
    output: out,
    includeDirs: defaultIncludeDirs({ vmlinuxDir: vmlinux }),
  });
  execFileSync('clang', args, { stdio: 'pipe' });
  execFileSync('llvm-strip', ['-g', out]);
  return new Uint8Array(readFileSync(out));
}

const fds = () => readdirSync('/proc/self/fd').length;
const rssMiB = () => process.memoryUsage().rss / 2 ** 20;
const gc = () => globalThis.gc?.();
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** 1: load/close `cycles` times, and load/attach/close `attachCycles` times; fds and RSS must come back. */
async function soakCycles(object) {
  const one = async (attach) => {
    const spec = CollectionSpec.fromBytes(object);
    for (const p of spec.programs.values()) p.autoload = p.name === 'relk_tp' || p.name === 'relk_xdp';
    const coll = await spec.load();
    if (attach) {
      const link = coll.program('relk_tp').attach();
      link.close();
      coll.program('relk_tp').attach(); // left to close() with the collection
    }
    coll.close();
  };
  const phase = async (n, attach) => {
    for (let i = 0; i < 20; i++) await one(attach); // warm-up: lazy libbpf state, JIT, koffi types
    gc();
    const before = { fds: fds(), rssMiB: round(rssMiB()) };
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      await one(attach);
      if (!opts.json && i > 0 && i % 1000 === 0)
        log(`  ${i} cycles, fds ${fds()}, rss ${round(rssMiB())} MiB`);
    }
    const seconds = (performance.now() - start) / 1000;
    gc();
    await new Promise((r) => setTimeout(r, 50));
    gc();
    const after = { fds: fds(), rssMiB: round(rssMiB()) };
    return { cycles: n, seconds: round(seconds, 2), perSecond: Math.round(n / seconds), before, after };
  };
  return { loadClose: await phase(cycles, false), loadAttachClose: await phase(attachCycles, true) };
}

/** 2: set/get/has/delete on a hash map through the typed view. */
async function soakMap(object) {
  const spec = CollectionSpec.fromBytes(object);
  for (const p of spec.programs.values()) p.autoload = false;
  const coll = await spec.load();
  const hash = new HashMap(coll.map('soak_hash'), u32, u64);
  gc();
  const before = { fds: fds(), rssMiB: rssMiB() };
  const start = performance.now();
  let found = 0;
  let mismatches = 0;
  for (let i = 0; i < mapOps; i += 4) {
    const key = i % 4000;
    hash.set(key, BigInt(i));
    const v = hash.get(key);
    if (v !== BigInt(i)) mismatches++;
    if (hash.has(key)) found++;
    if (i % 8 === 0) hash.delete(key);
  }
  const seconds = (performance.now() - start) / 1000;
  const entries = [...hash.keys()].length;
  gc();
  const after = { fds: fds(), rssMiB: rssMiB() };
  coll.close();
  return {
    ops: mapOps,
    seconds: round(seconds, 2),
    opsPerSecond: Math.round(mapOps / seconds),
    mismatches,
    found,
    entries,
    before,
    after,
  };
}

/** A process that makes getppid() calls (each produces `burst` events) once told to go. */
function producer(calls) {
  const script = `
    import koffi from ${JSON.stringify(join(root, 'node_modules/koffi/index.js'))};
    const getppid = koffi.load('libc.so.6').func('int getppid(void)');
    process.stdin.once('data', () => {
      for (let i = 0; i < ${calls}; i++) getppid();
      process.exit(0);
    });
    console.log('ready');
  `;
  const dir = join(tmpdir(), 'tsbpf-soak');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `producer.${process.pid}.mjs`);
  writeFileSync(file, script);
  return spawn(process.execPath, [file], { stdio: ['pipe', 'pipe', 'inherit'] });
}

/** 3: `events` attempts into a 64 KiB ring buffer; the reader sleeps between batches. */
async function soakRing(object) {
  const burst = 64;
  const calls = Math.ceil(events / burst);
  const child = producer(calls);
  await new Promise((r) => child.stdout.once('data', r));
  const spec = CollectionSpec.fromBytes(object);
  const rodata = spec.dataSection('.rodata');
  const dv = new DataView(rodata.buffer, rodata.byteOffset, rodata.byteLength);
  dv.setUint32(0, child.pid, true); // target_pid
  dv.setUint32(4, burst, true); // burst
  const coll = await spec.load();
  coll.program('soak_produce').attach();
  const codec = {
    size: 32,
    decode: (b, o = 0) => new DataView(b.buffer, b.byteOffset + o, 32).getBigUint64(0, true),
    encode: () => new Uint8Array(32),
    encodeInto: () => {},
  };
  const reader = new RingBuf(coll.map('soak_events')).reader(codec);
  gc();
  const before = { fds: fds(), rssMiB: rssMiB() };
  let maxRss = rssMiB();
  let received = 0;
  let outOfOrder = 0;
  let last = -1n;
  let exited = false;
  const done = new Promise((r) => child.on('exit', () => r(undefined)));
  child.on('exit', () => {
    exited = true;
  });
  const start = performance.now();
  child.stdin.write('go\n');
  const bss = () => {
    const b = coll.dataSection('.bss');
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return { attempted: Number(v.getBigUint64(0, true)), dropped: Number(v.getBigUint64(8, true)) };
  };
  // Slow consumer: at most 256 events per wake-up, then 1 ms of "work".
  const consume = (async () => {
    for await (const batch of reader.batches()) {
      for (const seq of batch) {
        if (seq <= last) outOfOrder++;
        last = seq;
      }
      received += batch.length;
      await new Promise((r) => setTimeout(r, 1));
      if (received % 65536 < batch.length) maxRss = Math.max(maxRss, rssMiB());
      if (exited && received + bss().dropped >= bss().attempted) break;
    }
  })();
  await done;
  // Drain what is left, then stop.
  const deadline = Date.now() + 60_000;
  while (received + bss().dropped < bss().attempted && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  reader.close();
  await consume.catch(() => {});
  const seconds = (performance.now() - start) / 1000;
  const counts = bss();
  gc();
  const after = { fds: fds(), rssMiB: rssMiB() };
  coll.close();
  return {
    attempted: counts.attempted,
    received,
    dropped: counts.dropped,
    exact: received + counts.dropped === counts.attempted,
    outOfOrder,
    readerLost: reader.lost,
    seconds: round(seconds, 2),
    receivedPerSecond: Math.round(received / seconds),
    before,
    after,
    maxRssMiB: round(maxRss),
  };
}

const fdNames = () =>
  readdirSync('/proc/self/fd').map((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return '?';
    }
  });
log(
  `soak: ${cycles} load/close and ${attachCycles} load/attach/close cycles, ${mapOps} map ops, ${events} ring buffer events (node ${process.version})`,
);
const kinds = compile('kinds');
const soak = compile('soak');
// After compiling (execFileSync's children): what the soaks themselves leave is what counts.
const start = { fds: fds(), rssMiB: round(rssMiB()) };
const startNames = fdNames();
const result = { start };
result.cycles = await soakCycles(kinds);
log('load/attach/close:', JSON.stringify(result.cycles));
result.map = await soakMap(soak);
log('map operations:', JSON.stringify(result.map));
result.ring = await soakRing(soak);
log('ring buffer:', JSON.stringify(result.ring));
gc();
result.end = { fds: fds(), rssMiB: round(rssMiB()) };
const left = [...startNames];
result.end.newFds = fdNames().filter((n) => {
  const i = left.indexOf(n);
  if (i < 0) return true;
  left.splice(i, 1);
  return false;
});
const failures = [];
for (const [name, phase] of Object.entries(result.cycles)) {
  if (phase.after.fds !== phase.before.fds) failures.push(`fds leaked across ${name} cycles`);
}
if (result.map.mismatches !== 0) failures.push('map get returned other values than set');
if (result.map.after.fds !== result.map.before.fds) failures.push('fds leaked by map operations');
if (!result.ring.exact) failures.push('ring buffer: received + dropped != attempted');
if (result.ring.outOfOrder !== 0) failures.push('ring buffer: events out of order');
// The readers' shared poller (an epoll fd and its wake-up eventfd) lives as long as the process.
const unexpected = result.end.newFds.filter(
  (n) => n !== 'anon_inode:[eventfd]' && n !== 'anon_inode:[eventpoll]',
);
if (unexpected.length > 0) failures.push(`fds left open at the end: ${unexpected.join(', ')}`);
result.failures = failures;
if (opts.json) console.log(JSON.stringify(result));
else log(failures.length ? `FAILED: ${failures.join('; ')}` : 'ok: no leak, counts exact');
process.exit(failures.length ? 1 : 0);
