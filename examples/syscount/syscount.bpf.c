// SPDX-License-Identifier: GPL-2.0
// syscount: system calls per process. A raw tracepoint on sys_enter runs on every system call
// of every process; it counts them in a hash map keyed by process id, and user space reads the
// map every interval. Raw tracepoints skip the argument formatting of ordinary tracepoints,
// which matters on a hook this hot.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct proc_stats {
	__u64 syscalls;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32); // process id (tgid)
	__type(value, struct proc_stats);
} counts SEC(".maps");

SEC("raw_tp/sys_enter")
int count_syscall(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct proc_stats *stats, fresh = { .syscalls = 1 };

	stats = bpf_map_lookup_elem(&counts, &pid);
	if (stats) {
		__sync_fetch_and_add(&stats->syscalls, 1); // other CPUs may count the same process
		return 0;
	}
	bpf_get_current_comm(fresh.comm, sizeof(fresh.comm));
	// NOEXIST: if another CPU created the entry meanwhile, this one call is not counted.
	bpf_map_update_elem(&counts, &pid, &fresh, BPF_NOEXIST);
	return 0;
}
