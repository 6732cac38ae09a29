// Benchmark: parse this machine's kernel BTF (/sys/kernel/btf/vmlinux) with tsbpf's parser
// (from dist/, so run `npm run build` first). Target (issue 3): under 300 ms. Prints one JSON line
// with the best of several runs: read+parse, the first name lookup (builds the name index), and
// decoding every type.
import { readFileSync } from 'node:fs';
import { parseBtf } from '../dist/btf/index.js';

const path = process.argv[2] ?? '/sys/kernel/btf/vmlinux';
const runs = Number(process.argv[3] ?? 5);
const best = { parseMs: Infinity, firstLookupMs: Infinity, allTypesMs: Infinity };
let types = 0;
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  const btf = parseBtf(new Uint8Array(readFileSync(path)), { file: path });
  const t1 = performance.now();
  btf.get('task_struct', 'struct');
  const t2 = performance.now();
  types = 0;
  for (const _ of btf.types()) types++;
  const t3 = performance.now();
  best.parseMs = Math.min(best.parseMs, t1 - t0);
  best.firstLookupMs = Math.min(best.firstLookupMs, t2 - t1);
  best.allTypesMs = Math.min(best.allTypesMs, t3 - t2);
}
const round = (x) => Math.round(x * 10) / 10;
console.log(
  JSON.stringify({
    bench: 'btf-parse',
    file: path,
    types,
    parseMs: round(best.parseMs),
    firstLookupMs: round(best.firstLookupMs),
    allTypesMs: round(best.allTypesMs),
    targetMs: 300,
  }),
);
