// sk_reuseport programs: attached to the SO_REUSEPORT group of a bound socket with setsockopt
// (SO_ATTACH_REUSEPORT_EBPF), they pick which socket of the group gets each new packet or
// connection, usually through a REUSEPORT_SOCKARRAY (ReuseportSockArray). The group keeps the
// program until SO_DETACH_REUSEPORT_BPF or until its last socket closes.
import { UsageError } from '../errors.js';
import { ProgType } from './constants.js';
import { callError } from './errors.js';
import { koffi } from './ffi/libbpf.js';
import { libc } from './ffi/libc.js';
import { BaseLink } from './link.js';

// SOL_SOCKET and option numbers from include/uapi/asm-generic/socket.h.
const SOL_SOCKET = 1;
const SO_ATTACH_REUSEPORT_EBPF = 52;
const SO_DETACH_REUSEPORT_BPF = 68;

/** The program on a socket's reuseport group; close() detaches it from the group. */
export class ReuseportLink extends BaseLink {
  readonly #socket: number;
  constructor(socketFd: number) {
    super();
    this.#socket = socketFd;
  }
  protected release(): void {
    // The socket may be closed already (the group went with it): nothing to detach then.
    libc().setsockopt(this.#socket, SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, new Int32Array(1), 4);
  }
}

/** Attaches program (its fd, type and name) to the reuseport group of socketFd. */
export function attachReuseport(
  program: { name: string; type: number; fd: number },
  socketFd: number,
): ReuseportLink {
  if (program.type !== ProgType.skReuseport) {
    throw new UsageError(`program ${program.name} is not an sk_reuseport program (SEC("sk_reuseport"))`);
  }
  const rc = libc().setsockopt(
    socketFd,
    SOL_SOCKET,
    SO_ATTACH_REUSEPORT_EBPF,
    new Int32Array([program.fd]),
    4,
  ) as number;
  if (rc < 0) {
    const errno = koffi.errno();
    throw callError(
      `program ${program.name}: attach to the reuseport group of socket ${socketFd}`,
      errno,
      errno === 22 ? ['the socket needs SO_REUSEPORT set and must be bound'] : [],
      undefined,
      ['CAP_BPF', 'CAP_NET_ADMIN'],
    );
  }
  return new ReuseportLink(socketFd);
}
