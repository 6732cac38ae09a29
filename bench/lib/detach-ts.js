// One side of the detach benchmark: load the twenty-tracepoint object, attach every program,
// then close the collection with close() or closeAsync() while perf_hooks.monitorEventLoopDelay
// watches the event loop. Prints the longest stall and the close's wall time, in milliseconds.
// `idle` waits half a second instead of closing: the stalls a busy machine causes by itself.
// Usage: node detach-ts.js <object.o> sync|async|idle
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { CollectionSpec } from 'tsbpf';

const [objectPath, mode] = process.argv.slice(2);
const coll = await CollectionSpec.fromBytes(new Uint8Array(readFileSync(objectPath)), {
  name: 'detach',
}).load();
for (const name of coll.programNames) coll.program(name).attach();
const links = coll.programNames.length;

const delay = monitorEventLoopDelay({ resolution: 1 });
// Enabled after the load and attach, so they are not in the histogram; the monitor's first tick
// (and the first after reset()) only starts its clock, so a stall before it would go unrecorded.
delay.enable();
await sleep(50);
delay.reset();
await sleep(10);
const t0 = performance.now();
if (mode === 'async') await coll.closeAsync();
else if (mode === 'sync') coll.close();
else await sleep(500);
const closeMs = performance.now() - t0;
// One more sampling period, so a stall at the very end is recorded.
await sleep(20);
delay.disable();
coll.close(); // idle: now, unwatched
process.stdout.write(`${JSON.stringify({ links, max_stall_ms: delay.max / 1e6, close_ms: closeMs })}\n`);
