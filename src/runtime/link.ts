// Link: one attachment of a program. Most are libbpf bpf_link objects; XDP with an explicit mode is
// a raw link fd, tc (before tcx) is a netlink filter, a socket filter is a socket option. All close
// the same way, and all are tracked so signals and the owning collection can close them.
import { TsbpfError } from '../errors.js';
import { callError } from './errors.js';
import { koffi, libbpf, type Pointer, TcHook, TcOpts } from './ffi/libbpf.js';
import { libc } from './ffi/libc.js';
import { trackLink, untrackLink } from './lifetime.js';
import { pinDetail } from './map.js';

export interface Link extends AsyncDisposable, Disposable {
  /** Detaches the program. Idempotent. */
  close(): void;
  /** Pins the link on a bpffs path, so it outlives this process (libbpf links only). */
  pin?(path: string): void;
  /** Removes the pin. */
  unpin?(): void;
  readonly closed: boolean;
}

abstract class BaseLink implements Link {
  #closed = false;
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
    if (this.#closed) return;
    this.#closed = true;
    untrackLink(this);
    try {
      this.release();
    } finally {
      for (const fn of this.#onClose) fn(this);
    }
  }

  protected abstract release(): void;

  [Symbol.dispose](): void {
    this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
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
    // bpf_link__destroy detaches (unless pinned: the pin keeps it) and frees the object.
    libbpf().bpf_link__destroy(this.#ptr);
    this.#ptr = null;
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
    libc().close(this.#fd);
    this.#fd = -1;
  }
}

/** A tc filter attached through netlink (bpf_tc_attach); detached with bpf_tc_detach. */
export class TcLink extends BaseLink {
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
