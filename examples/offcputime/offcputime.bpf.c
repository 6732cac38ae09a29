// SPDX-License-Identifier: GPL-2.0
// offcputime: where threads wait. When the scheduler switches a thread out, its stacks (the
// kernel path into schedule() and the user code that called it) are taken with the time; when
// the thread runs again, the time it spent off the CPU is added to that pair of stacks.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#define MAX_DEPTH 127 // PERF_MAX_STACK_DEPTH

struct wait_key {
	__u32 pid;
	__u32 tid;
	__s32 kernel_stack_id;
	__s32 user_stack_id;
	char comm[16];
};

// A thread switched out: where, and when.
struct switched_out {
	struct wait_key key;
	__u64 at;
};

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__uint(value_size, MAX_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

// Thread id -> where and when it left the CPU.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct switched_out);
} off SEC(".maps");

// Stacks -> microseconds spent off the CPU there.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct wait_key);
	__type(value, __u64);
} waited SEC(".maps");

// Only this process (0: every process), and only waits of at least this long.
const volatile __u32 target_pid = 0;
const volatile __u64 min_wait_us = 1;

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 prev_tid = prev->pid, next_tid = next->pid;
	struct switched_out *was, now = {};
	__u64 ts = bpf_ktime_get_ns(), us, *total;

	// The thread leaving: this program runs in its context, so the stacks are its own.
	if (prev_tid && (!target_pid || prev->tgid == target_pid)) {
		now.key.pid = prev->tgid;
		now.key.tid = prev_tid;
		now.key.kernel_stack_id = bpf_get_stackid(ctx, &stacks, 0);
		now.key.user_stack_id = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
		bpf_probe_read_kernel_str(&now.key.comm, sizeof(now.key.comm), prev->comm);
		now.at = ts;
		bpf_map_update_elem(&off, &prev_tid, &now, BPF_ANY);
	}

	// The thread arriving: how long it was away.
	was = bpf_map_lookup_elem(&off, &next_tid);
	if (!was)
		return 0;
	us = (ts - was->at) / 1000;
	if (us >= min_wait_us) {
		total = bpf_map_lookup_elem(&waited, &was->key);
		if (total)
			__sync_fetch_and_add(total, us);
		else
			bpf_map_update_elem(&waited, &was->key, &us, BPF_NOEXIST);
	}
	bpf_map_delete_elem(&off, &next_tid);
	return 0;
}
