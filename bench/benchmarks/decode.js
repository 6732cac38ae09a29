// decode_ratio_vs_handwritten: the codec tsbpf's codegen writes for a 104-byte struct against a
// hand-written DataView decoder (bench/lib/decode-bench.js), in a fresh process.
import { join } from 'node:path';
import { bpfObject, outDir } from '../lib/build.js';
import { generateCodec } from '../lib/codegen.js';
import { median, runJson } from '../lib/harness.js';

export async function measure({ quick }) {
  const object = await bpfObject('record');
  const codec = join(outDir, 'record.js');
  await generateCodec(object, 'struct record', codec);
  const script = new URL('../lib/decode-bench.js', import.meta.url).pathname;
  const r = await runJson(process.execPath, [script, codec, quick ? '15' : '41']);
  const g = median(r.generated);
  const h = median(r.handwritten);
  return {
    figures: { decode_ratio_vs_handwritten: g / h },
    details: { decode: { struct_bytes: 104, generated_per_s: g, handwritten_per_s: h } },
  };
}
