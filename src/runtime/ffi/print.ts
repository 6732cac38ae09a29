// libbpf reports problems (and verifier logs it allocated itself) through a print callback with a
// printf format and a va_list. We format each message with vasprintf, so messages of any length
// (a verifier log can be megabytes) arrive whole, and keep them for the error being built.
import { debug } from '../../output.js';
import { koffi, libbpf, PrintFn } from './libbpf.js';
import { libc, takeCString } from './libc.js';

export interface LibbpfMessage {
  level: 'warn' | 'info' | 'debug';
  text: string;
}

const levels = ['warn', 'info', 'debug'] as const;
let installed: unknown;
let capture: LibbpfMessage[] | undefined;

function onPrint(level: number, fmt: unknown, ap: unknown): number {
  // libbpf sends a dozen debug lines per open; nothing keeps them, so don't format them
  // (building strings in this callback costs native memory on every load).
  if ((levels[level] ?? 'debug') === 'debug' && !process.env.TSBPF_LIBBPF_DEBUG) return 0;
  const out = [null];
  const n = libc().vasprintf(out, fmt, ap) as number;
  if (n < 0 || out[0] === null) return 0;
  const text = takeCString(out[0]);
  const message = { level: levels[level] ?? 'debug', text };
  if (capture && message.level !== 'debug') capture.push(message);
  if (message.level !== 'debug' || process.env.TSBPF_LIBBPF_DEBUG) debug(`libbpf: ${text.trimEnd()}`);
  return n;
}

function install(): void {
  if (installed) return;
  installed = koffi.register(onPrint, koffi.pointer(PrintFn));
  libbpf().libbpf_set_print(installed);
}

/** Runs fn and returns what libbpf printed (warnings and info) meanwhile. */
export function captureLibbpf<T>(fn: () => T): { result?: T; error?: unknown; messages: LibbpfMessage[] } {
  install();
  const outer = capture;
  const messages: LibbpfMessage[] = [];
  capture = messages;
  try {
    return { result: fn(), messages };
  } catch (error) {
    return { error, messages };
  } finally {
    capture = outer;
    if (outer) outer.push(...messages);
  }
}

/** Makes sure libbpf prints through us (quietly) from now on. */
export function installLibbpfPrint(): void {
  install();
}
