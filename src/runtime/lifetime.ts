// Keeps kernel attachments from outliving the process that made them by accident: every live link
// is tracked; while any exists, SIGINT/SIGTERM handlers close them all before the process goes on
// to its default behaviour (exit by that signal) — unless the program has its own handlers, which
// then decide. A FinalizationRegistry closes what a program forgot to close and dropped.

interface Closable {
  close(): void;
}

const liveLinks = new Set<Closable>();
const signals = ['SIGINT', 'SIGTERM'] as const;
let installed = false;

function onSignal(signal: NodeJS.Signals): void {
  closeAllLinks();
  // Someone else listens too: they own the exit. Otherwise re-raise for the default action.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const s of signals) process.on(s, onSignal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  for (const s of signals) process.off(s, onSignal);
}

/** Closes every live link (used on signals). */
export function closeAllLinks(): void {
  uninstall();
  for (const link of [...liveLinks]) {
    try {
      link.close();
    } catch {
      // best effort: the process is going away
    }
  }
  liveLinks.clear();
}

export function trackLink(link: Closable): void {
  liveLinks.add(link);
  install();
}

export function untrackLink(link: Closable): void {
  liveLinks.delete(link);
  if (liveLinks.size === 0) uninstall();
}

/** How many links are live (tests and diagnostics). */
export function liveLinkCount(): number {
  return liveLinks.size;
}

/** Closes a held resource when its owner is garbage-collected without close(). */
export const finalizer = new FinalizationRegistry<Closable>((held) => {
  try {
    held.close();
  } catch {
    // nothing to report to: the owner is gone
  }
});
