// Optional CPU profiling for the tsbpf-side scripts: BENCH_PROFILE=<file.cpuprofile> starts the
// V8 profiler (through node:inspector) when asked, after the object is loaded. Not from the
// start: the profiler's SIGPROF ticks interrupt the kernel verifier, which then fails with EAGAIN.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { dirname } from 'node:path';

let session;

export async function startProfile() {
  if (!process.env.BENCH_PROFILE) return;
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
}

export async function stopProfile() {
  if (!session) return;
  const { profile } = await session.post('Profiler.stop');
  mkdirSync(dirname(process.env.BENCH_PROFILE), { recursive: true });
  writeFileSync(process.env.BENCH_PROFILE, JSON.stringify(profile));
  session.disconnect();
}

/** Self time per function, the top `n`, as "percent name file:line" lines. */
export function topSelf(profile, n = 15) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const total = profile.timeDeltas.reduce((a, b) => a + b, 0);
  const self = new Map();
  profile.samples.forEach((id, i) => {
    const f = byId.get(id).callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + profile.timeDeltas[i]);
  });
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, t]) => `${((t / total) * 100).toFixed(1)}% ${k}`);
}
