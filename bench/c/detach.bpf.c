// Twenty syscall tracepoints to detach at once (bench/benchmarks/detach.js): each does nothing;
// what is measured is how long closing their links holds the event loop.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define ON(tp) \
  SEC("tracepoint/syscalls/" #tp) int on_##tp(void *ctx) { return 0; }

ON(sys_enter_getppid) ON(sys_exit_getppid) ON(sys_enter_getpid) ON(sys_exit_getpid)
ON(sys_enter_gettid) ON(sys_exit_gettid) ON(sys_enter_getuid) ON(sys_exit_getuid)
ON(sys_enter_geteuid) ON(sys_exit_geteuid) ON(sys_enter_getgid) ON(sys_exit_getgid)
ON(sys_enter_getegid) ON(sys_exit_getegid) ON(sys_enter_sched_yield) ON(sys_exit_sched_yield)
ON(sys_enter_getpgrp) ON(sys_exit_getpgrp) ON(sys_enter_getsid) ON(sys_exit_getsid)

char LICENSE[] SEC("license") = "GPL";
