// close_stall_ms and close_async_stall_ms: the event loop's longest stall
// (perf_hooks.monitorEventLoopDelay) while a collection with twenty attached tracepoints
// (bench/c/detach.bpf.c) is closed with close() and with closeAsync() (bench/lib/detach-ts.js).
// Each detach waits in the kernel for an RCU grace period; closeAsync() waits on worker threads.
// No C baseline: the figure compares tsbpf's two ways of closing. On a busy machine an idle loop
// stalls too (its thread waits for a CPU): the details give that floor, from half a second idle.
import { bpfObject } from '../lib/build.js';
import { median, runJson } from '../lib/harness.js';

export async function measure({ quick }) {
  const object = await bpfObject('detach');
  const script = new URL('../lib/detach-ts.js', import.meta.url).pathname;
  const runs = { sync: [], async: [], idle: [] };
  const modes = Object.keys(runs);
  for (let i = 0; i < (quick ? 3 : 7); i++) {
    // Rotate which goes first, so none always runs on a busier machine.
    for (let k = 0; k < modes.length; k++) {
      const mode = modes[(i + k) % modes.length];
      runs[mode].push(await runJson(process.execPath, [script, object, mode]));
    }
  }
  const m = (mode, key) => median(runs[mode].map((r) => r[key]));
  return {
    figures: { close_stall_ms: m('sync', 'max_stall_ms'), close_async_stall_ms: m('async', 'max_stall_ms') },
    details: {
      detach: {
        links: runs.sync[0]?.links,
        sync_max_stall_ms: runs.sync.map((r) => r.max_stall_ms),
        async_max_stall_ms: runs.async.map((r) => r.max_stall_ms),
        idle_max_stall_ms: runs.idle.map((r) => r.max_stall_ms),
        sync_close_ms: m('sync', 'close_ms'),
        async_close_ms: m('async', 'close_ms'),
      },
    },
  };
}
