// Bindings to the C library: what Node lacks and the runtime needs (mmap for ring buffers, epoll to
// wait for events off the main thread, sockets for socket filters, vasprintf for libbpf's log,
// syscall() for perf_event_open).
import koffi from 'koffi';

function bind() {
  const l = koffi.load('libc.so.6');
  const f = (decl: string) => l.func(decl);
  return {
    mmap: f('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64 offset)'),
    munmap: f('int munmap(void *addr, size_t length)'),
    getpagesize: f('int getpagesize(void)'),
    close: f('int close(int fd)'),
    syscall: f('long syscall(long number, ...)'),
    fcntl: f('int fcntl(int fd, int cmd, ...)'),
    read: f('intptr_t read(int fd, _Out_ void *buf, size_t count)'),
    write: f('intptr_t write(int fd, const void *buf, size_t count)'),
    eventfd: f('int eventfd(uint32 initval, int flags)'),
    epoll_create1: f('int epoll_create1(int flags)'),
    epoll_ctl: f('int epoll_ctl(int epfd, int op, int fd, const void *event)'),
    epoll_wait: f('int epoll_wait(int epfd, _Out_ void *events, int maxevents, int timeout)'),
    socket: f('int socket(int domain, int type, int protocol)'),
    bind: f('int bind(int fd, const void *addr, uint32 addrlen)'),
    setsockopt: f('int setsockopt(int fd, int level, int optname, const void *optval, uint32 optlen)'),
    recv: f('intptr_t recv(int fd, _Out_ void *buf, size_t len, int flags)'),
    if_nametoindex: f('uint32 if_nametoindex(const char *ifname)'),
    vasprintf: f('int vasprintf(_Out_ void **strp, void *fmt, void *ap)'),
    free: f('void free(void *ptr)'),
    strerror: f('const char *strerror(int errnum)'),
  };
}

export type Libc = ReturnType<typeof bind>;
let bound: Libc | undefined;

export function libc(): Libc {
  bound ??= bind();
  return bound;
}

/** A C string that libc allocated, decoded and freed. */
export function takeCString(pointer: unknown): string {
  const text = koffi.decode(pointer, 'char', -1) as string;
  libc().free(pointer);
  return text;
}

/** A close-on-exec duplicate of fd (F_DUPFD_CLOEXEC), or -1. */
export function dupCloexec(fd: number): number {
  return libc().fcntl(fd, 1030, 'int', 3) as number;
}

export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 1;
export const MAP_PRIVATE = 2;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000;
export const EFD_CLOEXEC = 0o2000000;
export const EFD_NONBLOCK = 0o4000;
export const EPOLL_CLOEXEC = 0o2000000;
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;
export const EPOLLIN = 1;
export const EPOLLONESHOT = 1 << 30;
