// Keeps kernel attachments from outliving the process that made them by accident: every live link
// is tracked, and while any exists tsbpf listens for SIGINT, SIGTERM and SIGHUP. It acts only on a
// signal that would end the process, i.e. one that has no other listener when it arrives: then it
// closes every link and re-raises the signal, so the process still dies by it (exit status, core
// and parent's view unchanged). A signal the program listens for itself is the program's: its links
// stay attached (a daemon that reloads on SIGHUP keeps tracing), and if its handler then exits,
// the 'exit' listener closes them. It does not matter which was registered first: listeners are
// counted when the signal arrives, and tsbpf's listener is put first so that a `once` listener of
// the program's has not yet removed itself when they are counted.
// An 'exit' listener closes the links on process.exit(), at the end of the event loop and on an
// uncaught exception. Most links are fds the kernel drops with the process anyway, but a tc filter
// made through netlink (bpf_tc_attach) is not: it stays on the interface, program and all, until
// someone deletes it. A FinalizationRegistry closes what a program forgot to close and dropped.

interface Closable {
  close(): void;
}

const liveLinks = new Set<Closable>();
const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;

function onSignal(signal: NodeJS.Signals): void {
  // Another listener (before or after ours) means Node will not end the process: leave it be.
  if (process.listeners(signal).some((l) => l !== onSignal)) return;
  closeAllLinks();
  // Our listeners are gone, so Node has restored the default action: the re-raised signal ends us.
  process.kill(process.pid, signal);
}

// process.exit(), the end of the event loop, and an uncaught exception all emit 'exit', where
// only synchronous work runs: closing links is synchronous.
function onExit(): void {
  closeAllLinks();
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const s of signals) process.prependListener(s, onSignal);
  process.on('exit', onExit);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  for (const s of signals) process.off(s, onSignal);
  process.off('exit', onExit);
}

/**
 * Closes every live link. tsbpf calls it itself on process exit and on a SIGINT, SIGTERM or SIGHUP
 * that would end the process (one with no listener of the program's when it arrives); a signal the
 * program handles leaves the links attached, so a handler that shuts down without process.exit()
 * calls this (or closes its collections) itself.
 */
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
