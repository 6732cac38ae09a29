// tracefs: where tracepoint ids and trace_pipe live. Some machines boot without it mounted; as root
// we mount it (what `mount -t tracefs nodev /sys/kernel/tracing` does) instead of failing.
import { PermissionError } from '../errors.js';
import { pathExists } from '../linux.js';
import { koffi } from './ffi/libbpf.js';

export const TRACEFS = '/sys/kernel/tracing';

let mountFn:
  | ((source: string, target: string, type: string, flags: number, data: null) => number)
  | undefined;

/** The tracefs root, mounting it when missing. Throws PermissionError when it cannot be mounted. */
export function ensureTracefs(): string {
  if (pathExists(`${TRACEFS}/events`)) return TRACEFS;
  if (pathExists('/sys/kernel/debug/tracing/events')) return '/sys/kernel/debug/tracing';
  mountFn ??= koffi
    .load('libc.so.6')
    .func(
      'int mount(const char *source, const char *target, const char *type, unsigned long flags, const void *data)',
    );
  const rc = mountFn('nodev', TRACEFS, 'tracefs', 0, null);
  if (rc < 0 || !pathExists(`${TRACEFS}/events`)) {
    throw new PermissionError(
      `tracefs is not mounted at ${TRACEFS} and mounting it failed (errno ${koffi.errno()})`,
      {
        hint: `mount it as root: mount -t tracefs nodev ${TRACEFS}`,
      },
    );
  }
  return TRACEFS;
}
