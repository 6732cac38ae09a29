// tsbpf side of load + attach + close (bench/c/three.c is the C skeleton side): <iterations> times,
// open the three-program object's bytes, load, attach every program by its SEC() name, close.
// Usage: node load-ts.js <object.o> <iterations>
import { readFileSync } from 'node:fs';
import { CollectionSpec } from 'tsbpf';

const [objectPath, iterations] = process.argv.slice(2);
// Read once, as the skeleton embeds its object: only load + attach + close is timed.
const bytes = new Uint8Array(readFileSync(objectPath));
const times = [];
for (let i = 0; i < Number(iterations); i++) {
  const t0 = performance.now();
  const coll = await CollectionSpec.fromBytes(bytes, { name: 'three' }).load();
  for (const name of coll.programNames) coll.program(name).attach();
  coll.close();
  times.push(performance.now() - t0);
}
const sorted = [...times].sort((a, b) => a - b);
process.stdout.write(`${JSON.stringify({ times, median_ms: sorted[Math.floor(sorted.length / 2)] })}\n`);
