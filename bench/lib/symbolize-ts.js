// The tsbpf side of the symbolization benchmark, in its own process (so "cold" is cold): the same
// addresses and the same JSON as bench/c/symbolize.c. Kernel mode also times the table layout
// kallsyms.ts chose (u32 hi/lo halves) against a BigUint64Array over the same symbols. Warm is
// the median of 7 passes after the first.
//   node symbolize-ts.js kernel ADDRFILE       node symbolize-ts.js user PID ADDRFILE
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './build.js';

const { Symbolizer } = await import(join(repoRoot, 'dist', 'symbolize', 'index.js'));
// The binary search the symbolizer itself uses, so only the layout differs.
const { lastAtOrBelow } = await import(join(repoRoot, 'dist', 'symbolize', 'search.js'));
const [mode, ...args] = process.argv.slice(2);
const readAddresses = (file) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((hex) => BigInt(`0x${hex}`));

/** Median time of `pass` over 7 runs after a warm-up run. */
function timed(pass) {
  const times = [];
  for (let i = 0; i < 8; i++) {
    const t0 = performance.now();
    pass();
    times.push(performance.now() - t0);
  }
  return times.slice(1).sort((a, b) => a - b)[3];
}

/**
 * The search alone over the kernel's text symbols in the two layouts a 64-bit address allows in
 * JavaScript: a BigUint64Array (a bigint made per element read) and u32 hi/lo halves (what
 * kallsyms.ts keeps). Same binary search, same addresses.
 */
function layouts(addresses) {
  const starts = [];
  for (const line of readFileSync('/proc/kallsyms', 'latin1').split('\n')) {
    if (/^[0-9a-f]{16} [tTwW] /.test(line)) starts.push(BigInt(`0x${line.slice(0, 16)}`));
  }
  const big = new BigUint64Array(starts.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  const his = Uint32Array.from(big, (a) => Number(a >> 32n));
  const los = Uint32Array.from(big, (a) => Number(a & 0xffffffffn));
  const search = (atOrBelow) => lastAtOrBelow(big.length, atOrBelow);
  let sink = 0;
  return {
    biguint64array: timed(() => {
      for (const a of addresses) sink += search((i) => big[i] <= a);
    }),
    hi_lo_u32: timed(() => {
      for (const a of addresses) {
        const h = Number(a >> 32n);
        const l = Number(a & 0xffffffffn);
        sink += search((i) => his[i] < h || (his[i] === h && los[i] <= l));
      }
    }),
    sink,
  };
}

const symbolizer = new Symbolizer();
const addresses = readAddresses(mode === 'kernel' ? args[0] : args[1]);
const pass = () =>
  mode === 'kernel' ? symbolizer.kernel(addresses) : symbolizer.user(Number(args[0]), addresses);
const t0 = performance.now();
const frames = pass();
const cold = performance.now() - t0;
// Warm: caches filled and the code optimized, as in a profiler that symbolizes every few seconds.
const warm = timed(pass);
const result = {
  cold_ms: cold,
  warm_ms: warm,
  addresses: addresses.length,
  named: frames.filter((f) => f.symbol !== undefined).length,
};
if (mode === 'kernel') result.search_only_ms = layouts(addresses);
console.log(JSON.stringify(result));
