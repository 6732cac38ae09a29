// A three-program object for the load + attach + close benchmark: a tracepoint, a raw tracepoint
// and a second tracepoint sharing a hash map and a ring buffer, so load creates maps too.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u32);
  __type(value, __u64);
} counts SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 16);
} events SEC(".maps");

static __always_inline void bump(__u32 key) {
  __u64 one = 1, *v = bpf_map_lookup_elem(&counts, &key);
  if (v) __sync_fetch_and_add(v, 1);
  else bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int on_getpid(void *ctx) {
  bump(1);
  return 0;
}

SEC("raw_tp/sys_enter")
int on_sys_enter(void *ctx) {
  bump(2);
  return 0;
}

SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx) {
  __u32 *e = bpf_ringbuf_reserve(&events, sizeof(__u32), 0);
  if (e) {
    *e = bpf_get_current_pid_tgid() >> 32;
    bpf_ringbuf_submit(e, 0);
  }
  bump(3);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
