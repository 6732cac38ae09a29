// The map for the scrape benchmark: pid -> system calls and name, the exporter template's
// `counts`, sized for 100 000 entries. Filled from user space only.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct proc_stats {
  __u64 syscalls;
  char comm[16];
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 131072);
  __type(key, __u32);
  __type(value, struct proc_stats);
} counts SEC(".maps");

// libbpf wants a program in an object; this one is never attached.
SEC("raw_tp/sys_enter")
int touch(void *ctx) {
  __u32 key = 0;
  struct proc_stats *v = bpf_map_lookup_elem(&counts, &key);
  if (v) __sync_fetch_and_add(&v->syscalls, 1);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
