// tsbpf side of the map benchmarks; the same rounds as bench/c/maps.c, through the typed
// HashMap<number, bigint> view (u32 -> u64): set/get per entry, or setBatch/getBatch.
// Usage: node maps-ts.js single|batch <object.o> <n> <rounds>
import { readFileSync } from 'node:fs';
import { CollectionSpec, HashMap, u32, u64 } from 'tsbpf';
import { startProfile, stopProfile } from './profile.js';

const [mode, objectPath, nArg, roundsArg] = process.argv.slice(2);
const n = Number(nArg);
const rounds = Number(roundsArg);
const coll = await CollectionSpec.fromBytes(new Uint8Array(readFileSync(objectPath)), {
  name: 'maps',
}).load();
const counts = new HashMap(coll.map('counts'), u32, u64);

let sum = 0n;
let ops = 0;
let t0 = performance.now();
// Round 0 warms the JIT up and is not timed, as on the C side.
for (let r = 0; r <= rounds; r++) {
  if (r === 1) {
    await startProfile();
    t0 = performance.now();
  }
  const big = BigInt(r);
  if (mode === 'batch') {
    const entries = new Array(n);
    for (let i = 0; i < n; i++) entries[i] = [i, BigInt(i) * big];
    counts.setBatch(entries);
    for (const [, v] of counts.getBatch()) sum += v;
  } else {
    for (let i = 0; i < n; i++) counts.set(i, BigInt(i) * big);
    for (let i = 0; i < n; i++) sum += counts.get(i) ?? 0n;
  }
  if (r > 0) ops += 2 * n;
}
const seconds = (performance.now() - t0) / 1000;
await stopProfile();
process.stdout.write(`${JSON.stringify({ ops, seconds, rate: ops / seconds, checksum: sum.toString() })}\n`);
coll.close();
