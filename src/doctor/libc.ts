// libc's raw syscall() and close(), loaded once for the doctor's direct kernel probes (bpf() and
// perf_event_open() with no libbpf in between).

import koffi from 'koffi';

export interface Libc {
  syscall: koffi.KoffiFunction;
  close: koffi.KoffiFunction;
  getpagesize: koffi.KoffiFunction;
}

let libc: Libc | undefined;

export function loadLibc(): Libc {
  if (!libc) {
    const lib = koffi.load('libc.so.6');
    libc = {
      syscall: lib.func('long syscall(long number, ...)'),
      close: lib.func('int close(int fd)'),
      getpagesize: lib.func('int getpagesize(void)'),
    };
  }
  return libc;
}
