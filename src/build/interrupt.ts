// Ctrl-C during a build. Outputs are safe already (each is renamed into place whole, in
// synchronous code a signal handler cannot cut into), but the scratch folders the compiles write
// to (in $TMPDIR) and the compilers themselves would outlive a process killed by SIGINT's default
// action. So while a build runs, SIGINT stops the compilers, removes the scratch folders, says so
// in one line and exits 130, as a shell reports a command ended by SIGINT.

import { readFileSync, rmSync } from 'node:fs';

const scratchDirs = new Set<string>();

/** Registers a scratch folder to remove if the build is interrupted; returns the unregister. */
export function trackScratch(dir: string): () => void {
  scratchDirs.add(dir);
  return () => scratchDirs.delete(dir);
}

/** This process's children (clang, llvm-strip, bpftool), from procfs. */
function children(): number[] {
  try {
    const text = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim();
    return text === '' ? [] : text.split(' ').map(Number);
  } catch {
    return [];
  }
}

/** True while `pid` runs; a zombie (exited, not yet reaped by the event loop) has stopped. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

const sleep = new Int32Array(new SharedArrayBuffer(4));

/** Stops every child (waiting up to a second for them to go) and removes the scratch folders. */
export function cleanUpInterrupted(): void {
  const pids = children();
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone already
    }
  }
  // Synchronous on purpose: the process exits right after, and a compiler still writing into a
  // scratch folder could otherwise recreate a file in it after its removal.
  for (let waited = 0; waited < 1000 && pids.some(running); waited += 10) Atomics.wait(sleep, 0, 0, 10);
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
  scratchDirs.clear();
}

/**
 * While `work` runs, SIGINT cleans up (cleanUpInterrupted), writes `message` to stderr and exits
 * 130. The handler is removed when `work` settles.
 */
export async function interruptible<T>(message: string, work: () => Promise<T>): Promise<T> {
  const onSignal = () => {
    cleanUpInterrupted();
    process.stderr.write(`${message}\n`);
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  try {
    return await work();
  } finally {
    process.off('SIGINT', onSignal);
  }
}
