// One epoll set for every event reader in the process. A reader that finds its buffer empty arms
// its fd (EPOLLONESHOT) and waits; a single epoll_wait runs on a libuv worker thread through
// koffi's async calls, so waiting never blocks the event loop and, however many readers wait, only
// one worker thread is busy. An eventfd wakes the waiter when a reader gives up (close).
import { TsbpfError } from '../errors.js';
import { hostLittleEndian } from './constants.js';
import { koffi } from './ffi/libbpf.js';
import {
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  EPOLL_CLOEXEC,
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLL_CTL_MOD,
  EPOLLIN,
  EPOLLONESHOT,
  libc,
} from './ffi/libc.js';

// struct epoll_event is packed on x86-64 (12 bytes), naturally aligned elsewhere (16 bytes).
const packed = process.arch === 'x64' || process.arch === 'ia32';
const eventSize = packed ? 12 : 16;
const dataOffset = packed ? 4 : 8;
const maxEvents = 64;
const WAKE_ID = 0;

interface Waiter {
  fd: number;
  armed: boolean;
  registered: boolean;
  resolve: (() => void) | undefined;
}

class Poller {
  readonly #epfd: number;
  readonly #wakefd: number;
  readonly #waiters = new Map<number, Waiter>();
  #nextId = 1;
  #waiting = false;
  readonly #events = new Uint8Array(eventSize * maxEvents);

  constructor() {
    const c = libc();
    this.#epfd = c.epoll_create1(EPOLL_CLOEXEC) as number;
    if (this.#epfd < 0) throw new TsbpfError(`epoll_create1 failed: errno ${koffi.errno()}`);
    this.#wakefd = c.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) as number;
    if (this.#wakefd < 0) throw new TsbpfError(`eventfd failed: errno ${koffi.errno()}`);
    this.#ctl(EPOLL_CTL_ADD, this.#wakefd, EPOLLIN, WAKE_ID);
  }

  #ctl(op: number, fd: number, events: number, id: number): number {
    const ev = new Uint8Array(eventSize);
    const view = new DataView(ev.buffer);
    view.setUint32(0, events >>> 0, hostLittleEndian);
    view.setBigUint64(dataOffset, BigInt(id), hostLittleEndian);
    return libc().epoll_ctl(this.#epfd, op, fd, ev) as number;
  }

  /** Registers an fd; returns its id. */
  add(fd: number): number {
    const id = this.#nextId++;
    this.#waiters.set(id, { fd, armed: false, registered: false, resolve: undefined });
    return id;
  }

  /** Resolves when fd is readable (or remove() is called). Each fd may be added once: dup it to share. */
  wait(id: number): Promise<void> {
    const w = this.#waiters.get(id);
    if (!w) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      w.resolve = resolve;
      const flags = EPOLLIN | EPOLLONESHOT;
      const rc = w.registered
        ? this.#ctl(EPOLL_CTL_MOD, w.fd, flags, id)
        : this.#ctl(EPOLL_CTL_ADD, w.fd, flags, id);
      if (rc < 0) {
        w.resolve = undefined;
        reject(new TsbpfError(`epoll_ctl on fd ${w.fd} failed: errno ${koffi.errno()}`));
        return;
      }
      w.registered = true;
      w.armed = true;
      this.#loop();
    });
  }

  /** Forgets an fd and releases its waiter. */
  remove(id: number): void {
    const w = this.#waiters.get(id);
    if (!w) return;
    this.#waiters.delete(id);
    if (w.registered) this.#ctl(EPOLL_CTL_DEL, w.fd, 0, id);
    const resolve = w.resolve;
    w.resolve = undefined;
    resolve?.();
    this.#wake();
  }

  #wake(): void {
    if (this.#waiting) libc().write(this.#wakefd, new BigUint64Array([1n]), 8);
  }

  #armedCount(): number {
    let n = 0;
    for (const w of this.#waiters.values()) if (w.armed) n++;
    return n;
  }

  #loop(): void {
    if (this.#waiting || this.#armedCount() === 0) return;
    this.#waiting = true;
    libc().epoll_wait.async(this.#epfd, this.#events, maxEvents, -1, (error: unknown, n: number) => {
      this.#waiting = false;
      const view = new DataView(this.#events.buffer);
      for (let i = 0; i < (error ? 0 : n); i++) {
        const id = Number(view.getBigUint64(i * eventSize + dataOffset, hostLittleEndian));
        if (id === WAKE_ID) {
          libc().read(this.#wakefd, new Uint8Array(8), 8);
          continue;
        }
        const w = this.#waiters.get(id);
        if (!w) continue;
        w.armed = false;
        const resolve = w.resolve;
        w.resolve = undefined;
        resolve?.();
      }
      this.#loop();
    });
  }
}

let poller: Poller | undefined;

export function sharedPoller(): Poller {
  poller ??= new Poller();
  return poller;
}

export type { Poller };
