// The map for the map benchmarks: a u32 -> u64 hash map, read and written from user space only.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, __u32);
  __type(value, __u64);
} counts SEC(".maps");

// libbpf wants a program in an object; this one is never attached.
SEC("raw_tp/sys_enter")
int touch(void *ctx) {
  __u32 key = 0;
  __u64 *v = bpf_map_lookup_elem(&counts, &key);
  if (v) __sync_fetch_and_add(v, 1);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
