// The ~100-byte struct of the decode benchmark: a connection record of the kind a tracing tool
// emits (u64 counters, ids, addresses, a comm string). Only its BTF is used; the map names it.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct record {
  __u64 ts;
  __u64 cookie;
  __u32 pid;
  __u32 tid;
  __u32 uid;
  __u32 gid;
  __s32 ret;
  __u32 flags;
  __u32 saddr;
  __u32 daddr;
  __u16 sport;
  __u16 dport;
  __u8 proto;
  __u8 state;
  __u16 family;
  __u64 bytes_in;
  __u64 bytes_out;
  __u64 duration_ns;
  char comm[16];
  __u32 cpu;
  __u32 cgroup;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16);
  __type(key, __u32);
  __type(value, struct record);
} records SEC(".maps");

SEC("raw_tp/sys_enter")
int keep(void *ctx) {
  __u32 key = 0;
  return bpf_map_lookup_elem(&records, &key) != 0;
}

char LICENSE[] SEC("license") = "GPL";
