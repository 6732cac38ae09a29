// Link: one attachment of a program. Most are libbpf bpf_link objects; XDP with an explicit mode is
// a raw link fd, tc (before tcx) is a netlink filter, a socket filter is a socket option. All close
// the same way, and all are tracked so signals and the owning collection can close them.
// Detaching a tracepoint, uprobe or perf-event link waits in the kernel for an RCU grace period
// (30-100 ms per link here), so closeAsync() makes that syscall on a worker thread (koffi's async
// calls, Node's libuv pool) and the event loop goes on serving meanwhile.
import { TsbpfError } from '../errors.js';
import { callError } from './errors.js';
import { koffi, libbpf, type Pointer, TcHook, TcOpts } from './ffi/libbpf.js';
import { libc } from './ffi/libc.js';
import { trackLink, untrackLink } from './lifetime.js';
import { pinDetail } from './map.js';

export interface Link extends AsyncDisposable, Disposable {
  /** Detaches the program. Idempotent. Blocks while the kernel waits for readers to finish. */
  close(): void;
  /**
   * Detaches the program off the main thread: the event loop runs while the kernel waits. A few
   * detaches run at once (half of Node's thread pool); the others wait their turn. The link counts
   * as closed at once (close() after it only detaches here what still waits for its turn); calling
   * it again returns the same promise. `await using` calls it.
   */
  closeAsync(): Promise<void>;
  /** Pins the link on a bpffs path, so it outlives this process (libbpf links only). */
  pin?(path: string): void;
  /** Removes the pin. */
  unpin?(): void;
  readonly closed: boolean;
}

/** What every link shares: tracked while open, closed once, callbacks on close (see lifetime.ts). */
export abstract class BaseLink implements Link {
  #closed = false;
  #closing: Promise<void> | undefined;
  #onClose: Array<(link: Link) => void> = [];

  protected constructor() {
    trackLink(this);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Registers a callback for close (the owning collection forgets the link). */
  onClose(fn: (link: Link) => void): void {
    this.#onClose.push(fn);
  }

  close(): void {
    if (this.#closed) {
      // A closeAsync() whose detach still waits for its turn (see detachOffThread): done here, now
      // (the process is exiting, say). One a worker has begun stays the worker's.
      if (this.#closing) this.releasePending();
      return;
    }
    this.#closed = true;
    untrackLink(this);
    try {
      this.release();
    } finally {
      for (const fn of this.#onClose) fn(this);
    }
  }

  closeAsync(): Promise<void> {
    if (this.#closing) return this.#closing;
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    // Tracked until the worker is done: an exit meanwhile finds the link closed (the worker owns
    // it) and leaves it be; the process's end closes whatever fd the worker had not reached.
    let released: Promise<void>;
    try {
      released = this.releaseAsync();
    } catch (error) {
      released = Promise.reject(error);
    }
    this.#closing = released.finally(() => {
      untrackLink(this);
      for (const fn of this.#onClose) fn(this);
    });
    return this.#closing;
  }

  protected abstract release(): void;

  /** Links whose detach does not wait on the kernel release on the main thread. */
  protected releaseAsync(): Promise<void> {
    this.release();
    return Promise.resolve();
  }

  /** Releases, on this thread, what a closeAsync() has not yet handed to a worker. */
  protected releasePending(): void {}

  [Symbol.dispose](): void {
    this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.closeAsync();
  }
}

type AsyncCallable = ((...args: unknown[]) => unknown) & { async: (...args: unknown[]) => void };

/**
 * Calls a koffi-bound function on a worker thread; on this one when koffi cannot queue the call
 * (more than max_async_calls pending): blocking beats leaving the link attached.
 */
function offThread(fn: AsyncCallable, ...args: unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    try {
      fn.async(...args, (error: unknown, result: unknown) => (error ? reject(error) : resolve(result)));
    } catch {
      resolve(fn(...args));
    }
  });
}

// Detaches run in Node's libuv pool (UV_THREADPOOL_SIZE threads, 4 by default) beside fs, dns and
// crypto, which must not queue behind a collection's tens of detaches or a perf event's one per
// CPU: at most half of the pool detaches at once, and the other detaches wait their turn here.
const detachesAtOnce = Math.max(1, Math.floor(Number(process.env.UV_THREADPOOL_SIZE || 4) / 2));
let detaching = 0;
const waitingTurns: Array<() => void> = [];

/**
 * Calls `fn(handle)` off the main thread in a detach turn. `take` runs when the turn comes (at once
 * when one is free) and gives up the handle, or undefined when close() released it meanwhile.
 */
async function detachOffThread<H>(fn: AsyncCallable, take: () => H | undefined): Promise<void> {
  if (detaching < detachesAtOnce) detaching++;
  else await new Promise<void>((resolve) => waitingTurns.push(resolve)); // handed over by the last
  try {
    const handle = take();
    if (handle !== undefined) await offThread(fn, handle);
  } finally {
    const next = waitingTurns.shift();
    if (next) next();
    else detaching--;
  }
}

/** A libbpf struct bpf_link. */
export class LibbpfLink extends BaseLink {
  #ptr: Pointer;
  constructor(ptr: Pointer) {
    super();
    this.#ptr = ptr;
  }

  get fd(): number {
    return libbpf().bpf_link__fd(this.#ptr) as number;
  }

  pin(path: string): void {
    if (this.closed) throw new TsbpfError('link is closed');
    const err = libbpf().bpf_link__pin(this.#ptr, path) as number;
    if (err < 0) throw callError(`pin link at ${path}`, -err, pinDetail(-err));
  }

  unpin(): void {
    const err = libbpf().bpf_link__unpin(this.#ptr) as number;
    if (err < 0) throw callError('unpin link', -err);
  }

  protected release(): void {
    if (this.#ptr === null) return; // a closeAsync() worker has it
    // bpf_link__destroy detaches (unless pinned: the pin keeps it) and frees the object.
    libbpf().bpf_link__destroy(this.#ptr);
    this.#ptr = null;
  }

  protected override releaseAsync(): Promise<void> {
    return detachOffThread(libbpf().bpf_link__destroy, () => {
      const ptr = this.#ptr;
      this.#ptr = null;
      return ptr ?? undefined;
    });
  }

  protected override releasePending(): void {
    this.release();
  }
}

/** A bare link fd from BPF_LINK_CREATE; closing the fd detaches. */
export class FdLink extends BaseLink {
  #fd: number;
  constructor(fd: number) {
    super();
    this.#fd = fd;
  }

  get fd(): number {
    return this.#fd;
  }

  pin(path: string): void {
    const err = libbpf().bpf_obj_pin(this.#fd, path) as number;
    if (err < 0) throw callError(`pin link at ${path}`, -err, pinDetail(-err));
  }

  protected release(): void {
    if (this.#fd < 0) return; // a closeAsync() worker has it
    libc().close(this.#fd);
    this.#fd = -1;
  }

  protected override releaseAsync(): Promise<void> {
    return detachOffThread(libc().close, () => {
      const fd = this.#fd;
      this.#fd = -1;
      return fd < 0 ? undefined : fd;
    });
  }

  protected override releasePending(): void {
    this.release();
  }
}

/**
 * Several links one call made (a perf event's link on each CPU), detached together: every one is
 * closed even when another fails to, and the first failure is thrown after.
 */
export class LinkGroup extends BaseLink {
  readonly #links: readonly Link[];
  constructor(links: readonly Link[]) {
    super();
    this.#links = links;
  }

  protected release(): void {
    const failed = this.#links.map((link) => settle(() => link.close())).find((f) => f !== undefined);
    if (failed) throw failed.error;
  }

  protected override async releaseAsync(): Promise<void> {
    const results = await Promise.allSettled(this.#links.map((link) => link.closeAsync()));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  protected override releasePending(): void {
    this.release();
  }
}

function settle(fn: () => void): { error: unknown } | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return { error };
  }
}

/** A tc filter attached through netlink (bpf_tc_attach); detached with bpf_tc_detach. */
export class TcLink extends BaseLink {
  /** A netlink filter (tcx.ts has the other kind): it stays on the interface after a SIGKILL. */
  readonly mechanism = 'netlink' as const;
  readonly #hook: Record<string, number>;
  readonly #opts: Record<string, number>;
  constructor(hook: Record<string, number>, opts: Record<string, number>) {
    super();
    this.#hook = hook;
    this.#opts = opts;
  }

  protected release(): void {
    // bpf_tc_detach wants handle and priority only (prog_fd, prog_id and flags must be zero).
    const opts = {
      sz: koffi.sizeof(TcOpts),
      prog_fd: 0,
      flags: 0,
      prog_id: 0,
      handle: this.#opts.handle,
      priority: this.#opts.priority,
    };
    const err = libbpf().bpf_tc_detach({ ...this.#hook, sz: koffi.sizeof(TcHook) }, opts) as number;
    // ENOENT/ENODEV: the interface or its qdisc is already gone, so is the filter.
    if (err < 0 && err !== -2 && err !== -19) throw callError('detach tc filter', -err);
  }
}

/** A socket filter: SO_ATTACH_BPF on a socket; detached with SO_DETACH_BPF. */
export class SocketLink extends BaseLink {
  readonly #socket: number;
  constructor(socketFd: number) {
    super();
    this.#socket = socketFd;
  }

  protected release(): void {
    // SOL_SOCKET = 1, SO_DETACH_BPF = SO_DETACH_FILTER = 27 (include/uapi/asm-generic/socket.h)
    const dummy = new Uint8Array(4);
    libc().setsockopt(this.#socket, 1, 27, dummy, 4);
  }
}

/** Opens a link pinned at path. */
export function openPinnedLink(path: string): Link {
  const ptr = libbpf().bpf_link__open(path);
  if (!ptr) throw callError(`open pinned link ${path}`, koffi.errno());
  return new LibbpfLink(ptr);
}
