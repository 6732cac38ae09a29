// Keeps kernel attachments from outliving the process that made them by accident: every live link
// is tracked; while any exists, SIGINT/SIGTERM/SIGHUP handlers close them all before the process
// goes on to its default behaviour (exit by that signal) — unless the program has its own handlers,
// which then decide. An 'exit' listener does the same for process.exit() and uncaught exceptions.
// Most links are fds the kernel drops with the process anyway, but a tc filter made through netlink
// (bpf_tc_attach) is not: it stays on the interface, program and all, until someone deletes it.
// A FinalizationRegistry closes what a program forgot to close and dropped.

interface Closable {
  close(): void;
}

const liveLinks = new Set<Closable>();
const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;

function onSignal(signal: NodeJS.Signals): void {
  closeAllLinks();
  // Someone else listens too: they own the exit. Otherwise re-raise for the default action.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

// process.exit(), the end of the event loop, and an uncaught exception all emit 'exit', where
// only synchronous work runs: closing links is synchronous.
function onExit(): void {
  closeAllLinks();
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const s of signals) process.on(s, onSignal);
  process.on('exit', onExit);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  for (const s of signals) process.off(s, onSignal);
  process.off('exit', onExit);
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
