// Raw packet sockets for socket filter programs: Node cannot open AF_PACKET sockets, so we do it
// through libc. The socket sees every frame of one interface (or all); a BPF socket filter decides
// what reaches it, and the program's maps are where the results usually go.
import { TsbpfError } from '../errors.js';
import { hostLittleEndian } from './constants.js';
import { callError } from './errors.js';
import { koffi } from './ffi/libbpf.js';
import { libc } from './ffi/libc.js';

// include/linux/socket.h, include/uapi/linux/if_ether.h
const AF_PACKET = 17;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const ETH_P_ALL = 0x0003;

export interface RawSocket extends Disposable {
  readonly fd: number;
  /** Reads one frame if one is waiting (the socket is non-blocking); undefined otherwise. */
  receive(maxLength?: number): Uint8Array | undefined;
  close(): void;
}

/** Opens an AF_PACKET raw socket bound to ifname (all interfaces when omitted). */
export function openRawSocket(ifname?: string): RawSocket {
  const c = libc();
  const protocol = ((ETH_P_ALL & 0xff) << 8) | (ETH_P_ALL >> 8); // htons
  const fd = c.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol) as number;
  if (fd < 0) throw callError('open raw packet socket', koffi.errno());
  if (ifname) {
    const ifindex = c.if_nametoindex(ifname) as number;
    if (ifindex === 0) {
      c.close(fd);
      throw new TsbpfError(`network interface ${ifname} does not exist`);
    }
    // struct sockaddr_ll (uapi/linux/if_packet.h): family u16, protocol be16, ifindex int, ...; 20 bytes
    const addr = new Uint8Array(20);
    const view = new DataView(addr.buffer);
    view.setUint16(0, AF_PACKET, hostLittleEndian);
    view.setUint16(2, ETH_P_ALL, false);
    view.setInt32(4, ifindex, hostLittleEndian);
    if ((c.bind(fd, addr, addr.byteLength) as number) < 0) {
      const errno = koffi.errno();
      c.close(fd);
      throw callError(`bind raw socket to ${ifname}`, errno);
    }
  }
  let open = true;
  return {
    fd,
    receive(maxLength = 65536) {
      const buf = new Uint8Array(maxLength);
      const n = c.recv(fd, buf, maxLength, 0) as number;
      return n > 0 ? buf.slice(0, n) : undefined;
    },
    close() {
      if (open) c.close(fd);
      open = false;
    },
    [Symbol.dispose]() {
      this.close();
    },
  };
}
