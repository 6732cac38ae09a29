// A minimal AF_XDP socket for tests: a UMEM of a few frames, fill/completion and RX rings, bound
// to one queue of a device in copy mode, and a receive() that reads frames the XDP program
// redirected to it. Layouts from include/uapi/linux/if_xdp.h; the ring protocol (producer and
// consumer indexes in the mmaped ring headers) from Documentation/networking/af_xdp.rst.
import koffi from 'koffi';

const libc = koffi.load('libc.so.6');
const socket = libc.func('int socket(int domain, int type, int protocol)');
const setsockopt = libc.func(
  'int setsockopt(int fd, int level, int optname, const void *optval, uint32 optlen)',
);
const getsockopt = libc.func(
  'int getsockopt(int fd, int level, int optname, _Out_ void *optval, _Inout_ uint32 *optlen)',
);
const bind = libc.func('int bind(int fd, const void *addr, uint32 addrlen)');
const mmap = libc.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64 offset)');
const munmap = libc.func('int munmap(void *addr, size_t length)');
const close = libc.func('int close(int fd)');
const if_nametoindex = libc.func('uint32 if_nametoindex(const char *ifname)');

const AF_XDP = 44;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const SOL_XDP = 283;
const XDP_MMAP_OFFSETS = 1;
const XDP_RX_RING = 2;
const XDP_UMEM_REG = 4;
const XDP_UMEM_FILL_RING = 5;
const XDP_UMEM_COMPLETION_RING = 6;
const XDP_COPY = 1 << 1;
const XDP_PGOFF_RX_RING = 0n;
const XDP_UMEM_PGOFF_FILL_RING = 0x100000000n;
const PROT_RW = 3;
const MAP_SHARED = 1;
const MAP_PRIVATE = 2;
const MAP_ANONYMOUS = 0x20;
const MAP_POPULATE = 0x8000;

const FRAMES = 16;
const FRAME_SIZE = 4096;
const RING = 16; // entries in each ring (a power of two)

export interface XdpSocket extends Disposable {
  readonly fd: number;
  /** Frames received since the last call (copies). */
  receive(): Uint8Array[];
  /** struct xdp_statistics: rx_dropped, rx_invalid_descs, tx_invalid_descs, rx_ring_full, rx_fill_ring_empty_descs, tx_ring_empty_descs. */
  stats(): bigint[];
  close(): void;
}

function check(rc: number, what: string): void {
  if (rc < 0) throw new Error(`AF_XDP ${what} failed (errno ${koffi.errno()})`);
}

/** An AF_XDP socket bound to `queue` of `ifname`, ready to receive. */
export function openXdpSocket(ifname: string, queue = 0): XdpSocket {
  const fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0) as number;
  check(fd, 'socket');
  const mappings: Array<[unknown, number]> = [];
  const release = () => {
    for (const [address, length] of mappings) munmap(address, length);
    mappings.length = 0;
    close(fd);
  };
  try {
    const umemLength = FRAMES * FRAME_SIZE;
    const umem = mmap(null, umemLength, PROT_RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0n);
    mappings.push([umem, umemLength]);
    // struct xdp_umem_reg { __u64 addr, len; __u32 chunk_size, headroom, flags, tx_metadata_len; }
    const reg = new Uint8Array(32);
    const rv = new DataView(reg.buffer);
    rv.setBigUint64(0, BigInt(koffi.address(umem)), true);
    rv.setBigUint64(8, BigInt(umemLength), true);
    rv.setUint32(16, FRAME_SIZE, true);
    check(setsockopt(fd, SOL_XDP, XDP_UMEM_REG, reg, reg.byteLength) as number, 'UMEM registration');
    const size = new Int32Array([RING]);
    for (const ring of [XDP_UMEM_FILL_RING, XDP_UMEM_COMPLETION_RING, XDP_RX_RING]) {
      check(setsockopt(fd, SOL_XDP, ring, size, 4) as number, `ring ${ring} size`);
    }
    // struct xdp_mmap_offsets { struct xdp_ring_offset rx, tx, fr, cr; }, each { producer, consumer, desc, flags }
    const offsets = new BigUint64Array(16);
    check(getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, offsets, [offsets.byteLength]) as number, 'mmap offsets');
    const ring = (base: number) => ({
      producer: Number(offsets[base]),
      consumer: Number(offsets[base + 1]),
      desc: Number(offsets[base + 2]),
    });
    const rx = ring(0);
    const fr = ring(8);
    const mapRing = (length: number, offset: bigint) => {
      const address = mmap(null, length, PROT_RW, MAP_SHARED | MAP_POPULATE, fd, offset);
      if (BigInt(koffi.address(address)) === 0xffffffffffffffffn) check(-1, 'ring mmap');
      mappings.push([address, length]);
      return koffi.view(address, length);
    };
    const fill = mapRing(fr.desc + RING * 8, XDP_UMEM_PGOFF_FILL_RING);
    const rxRing = mapRing(rx.desc + RING * 16, XDP_PGOFF_RX_RING);
    const frames = koffi.view(umem, umemLength);

    // Hand every frame to the kernel to fill: addresses in the fill ring, then the producer index.
    const fillAddrs = new BigUint64Array(fill, fr.desc, RING);
    for (let i = 0; i < RING; i++) fillAddrs[i] = BigInt(i * FRAME_SIZE);
    new Uint32Array(fill, fr.producer, 1)[0] = RING;

    // struct sockaddr_xdp { __u16 family, flags; __u32 ifindex, queue_id, shared_umem_fd; }
    const addr = new Uint8Array(16);
    const av = new DataView(addr.buffer);
    av.setUint16(0, AF_XDP, true);
    av.setUint16(2, XDP_COPY, true);
    av.setUint32(4, if_nametoindex(ifname) as number, true);
    av.setUint32(8, queue, true);
    check(bind(fd, addr, addr.byteLength) as number, `bind to ${ifname} queue ${queue}`);

    const rxProducer = new Uint32Array(rxRing, rx.producer, 1);
    const rxConsumer = new Uint32Array(rxRing, rx.consumer, 1);
    let open = true;
    return {
      fd,
      receive() {
        const out: Uint8Array[] = [];
        let consumer = rxConsumer[0]!;
        const producer = rxProducer[0]!;
        for (; consumer !== producer; consumer = (consumer + 1) >>> 0) {
          // struct xdp_desc { __u64 addr; __u32 len; __u32 options; }
          const desc = new DataView(rxRing, rx.desc + (consumer % RING) * 16, 16);
          const at = Number(desc.getBigUint64(0, true));
          out.push(new Uint8Array(frames, at, desc.getUint32(8, true)).slice());
        }
        rxConsumer[0] = consumer; // frames are not recycled: a test receives fewer than RING
        return out;
      },
      stats() {
        const out = new BigUint64Array(6);
        check(getsockopt(fd, SOL_XDP, 7, out, [out.byteLength]) as number, 'statistics');
        return [...out];
      },
      close() {
        if (open) release();
        open = false;
      },
      [Symbol.dispose]() {
        this.close();
      },
    };
  } catch (error) {
    release();
    throw error;
  }
}
