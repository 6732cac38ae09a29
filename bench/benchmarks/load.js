// load_attach_ratio_vs_c: load + attach + close of a three-program object (bench/c/three.bpf.c),
// tsbpf's CollectionSpec/Collection (bench/lib/load-ts.js) over a bpftool skeleton (bench/c/three.c).
import { bpfObject, cBinary, skeleton } from '../lib/build.js';
import { runJson, sideBySide } from '../lib/harness.js';

export async function measure({ quick }) {
  const object = await bpfObject('three');
  const header = await skeleton(object, 'three');
  const binary = await cBinary('three', [header]);
  const script = new URL('../lib/load-ts.js', import.meta.url).pathname;
  const iterations = quick ? '4' : '8';
  const pair = await sideBySide({
    reps: quick ? 2 : 3,
    baseline: async () => {
      const r = await runJson(binary, [iterations]);
      return { ...r, value: r.median_ms };
    },
    tsbpf: async () => {
      const r = await runJson(process.execPath, [script, object, iterations]);
      return { ...r, value: r.median_ms };
    },
  });
  return {
    figures: { load_attach_ratio_vs_c: pair.ratio },
    details: { load_attach: { ratio: pair.ratio, c_ms: pair.baselineMedian, tsbpf_ms: pair.tsbpfMedian } },
  };
}
