// map_batch_ratio_vs_c and map_single_ratio_vs_c: u32 -> u64 hash map, writes + reads per second,
// bench/c/maps.c (libbpf) against bench/lib/maps-ts.js (tsbpf HashMap).
import { bpfObject, cBinary } from '../lib/build.js';
import { runJson, sideBySide } from '../lib/harness.js';

export async function measure({ quick }) {
  const object = await bpfObject('maps');
  const binary = await cBinary('maps');
  const script = new URL('../lib/maps-ts.js', import.meta.url).pathname;
  const reps = quick ? 2 : 3;
  const n = '10000';
  const pair = (mode, rounds) =>
    sideBySide({
      reps,
      baseline: async () => {
        const r = await runJson(binary, [mode, object, n, rounds]);
        return { ...r, value: r.rate };
      },
      tsbpf: async () => {
        const r = await runJson(process.execPath, [script, mode, object, n, rounds]);
        return { ...r, value: r.rate };
      },
    });
  const batch = await pair('batch', '20');
  const single = await pair('single', '3');
  const d = (p) => ({ ratio: p.ratio, c_ops_per_s: p.baselineMedian, tsbpf_ops_per_s: p.tsbpfMedian });
  return {
    figures: { map_batch_ratio_vs_c: batch.ratio, map_single_ratio_vs_c: single.ratio },
    details: { map_batch: d(batch), map_single: d(single), entries: Number(n) },
  };
}
