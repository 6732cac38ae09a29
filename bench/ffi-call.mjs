// Benchmark: what one libbpf call through koffi costs (from dist/, so run `npm run build` first),
// the FFI overhead every map get/set, attach and close pays on top of its syscall. Prints one JSON
// line, ns per call, the best of several runs (a shared machine only ever adds time):
//   noArgs       libbpf_major_version(): no argument, a uint32 back, no syscall
//   pointerArg   libbpf_get_error(bytes): one Uint8Array passed as a pointer, no syscall
//   lookup       bpf_map_lookup_elem_flags(-1, key, value, 0): two Uint8Array pointers and a
//                uint64, as HashMap.get passes them; fd -1 makes it one failing bpf() syscall
//   asyncNoArgs  libbpf_major_version.async, awaited one at a time: a worker-thread round trip,
//                what closeAsync() and the event poller pay per call
// Usage: node bench/ffi-call.mjs [calls] [runs]
import koffi from 'koffi';
import { libbpf } from '../dist/runtime/ffi/libbpf.js';
import { loadLibbpf } from '../dist/runtime/ffi/libbpf-load.js';

const calls = Number(process.argv[2] ?? 1_000_000);
const runs = Number(process.argv[3] ?? 5);
const l = libbpf();
const key = new Uint8Array(4);
const value = new Uint8Array(8);

/** ns per call of fn, run `n` times: the best of `runs` timings (the first also warms the JIT). */
function best(n, fn) {
  let ns = Infinity;
  for (let r = 0; r <= runs; r++) {
    const t0 = process.hrtime.bigint();
    fn(n);
    const t = Number(process.hrtime.bigint() - t0) / n;
    if (r > 0) ns = Math.min(ns, t);
  }
  return Math.round(ns * 10) / 10;
}

async function bestAsync(n) {
  const once = () => new Promise((resolve) => l.libbpf_major_version.async((_, v) => resolve(v)));
  let ns = Infinity;
  for (let r = 0; r <= runs; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await once();
    const t = Number(process.hrtime.bigint() - t0) / n;
    if (r > 0) ns = Math.min(ns, t);
  }
  return Math.round(ns);
}

let sink = 0;
const noArgs = best(calls, (n) => {
  for (let i = 0; i < n; i++) sink += l.libbpf_major_version();
});
const getError = loadLibbpf().func('long libbpf_get_error(const void *ptr)');
const pointerArg = best(calls, (n) => {
  for (let i = 0; i < n; i++) sink += getError(key);
});
const lookup = best(calls / 10, (n) => {
  for (let i = 0; i < n; i++) sink += l.bpf_map_lookup_elem_flags(-1, key, value, 0);
});
const asyncNoArgs = await bestAsync(calls / 100);
console.log(
  JSON.stringify({
    bench: 'ffi-call',
    koffi: koffi.version,
    node: process.version,
    calls,
    ns: { noArgs, pointerArg, lookup, asyncNoArgs },
    sink: sink !== 0,
  }),
);
