// scrape_ratio_vs_c, scrape_10k_ms, scrape_100k_ms: how a /metrics scrape grows with the map.
// One scrape reads a pid -> {syscalls, comm} hash map whole and writes one counter line per
// entry; bench/c/scrape.c (libbpf batch reads + snprintf) against bench/lib/scrape-ts.js
// (tsbpf/metrics over prom-client), at 10 000 and 100 000 entries.
import { bpfObject, cBinary } from '../lib/build.js';
import { runJson, sideBySide } from '../lib/harness.js';

export async function measure({ quick }) {
  const object = await bpfObject('scrape');
  const binary = await cBinary('scrape');
  const script = new URL('../lib/scrape-ts.js', import.meta.url).pathname;
  const reps = quick ? 2 : 3;
  const at = (n, scrapes) =>
    sideBySide({
      reps,
      baseline: async () => {
        const r = await runJson(binary, [object, String(n), String(scrapes)]);
        return { ...r, value: r.rate };
      },
      tsbpf: async () => {
        const r = await runJson(process.execPath, [script, object, String(n), String(scrapes)]);
        return { ...r, value: r.rate };
      },
    });
  const small = await at(10_000, quick ? 5 : 20);
  const large = await at(100_000, quick ? 2 : 5);
  const d = (p) => ({
    ratio: p.ratio,
    c_ms_per_scrape: 1000 / p.baselineMedian,
    tsbpf_ms_per_scrape: 1000 / p.tsbpfMedian,
    bytes: p.tsbpf[0]?.bytes,
  });
  return {
    figures: {
      scrape_ratio_vs_c: large.ratio,
      scrape_10k_ms: 1000 / small.tsbpfMedian,
      scrape_100k_ms: 1000 / large.tsbpfMedian,
    },
    details: { scrape_10k: d(small), scrape_100k: d(large) },
  };
}
