// SPDX-License-Identifier: GPL-2.0
// profile: a sampling CPU profiler. A perf event fires on every CPU at a fixed frequency (opened
// by main.ts with attachPerfEvent); each sample records the interrupted task's kernel and user
// stacks and counts how often that pair was seen. Only the counts and the stacks leave the
// kernel, so sampling stays cheap at 99 Hz.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define MAX_DEPTH 127 // PERF_MAX_STACK_DEPTH, the kernel's default limit

// One sampled place: who was running and where. A stack id is negative when that stack could
// not be taken (no user stack in a kernel thread, or the stack map was full).
struct sample_key {
	__u32 pid;
	__s32 kernel_stack_id;
	__s32 user_stack_id;
	char comm[16];
};

// Stack id -> up to MAX_DEPTH instruction addresses, innermost first.
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__uint(value_size, MAX_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct sample_key);
	__type(value, __u64);
} counts SEC(".maps");

// Only this process (0: every process). .rodata: set before load, constant to the verifier.
const volatile __u32 target_pid = 0;
// Samples of the idle task (pid 0) are left out unless asked for.
const volatile bool include_idle = false;

SEC("perf_event")
int sample(struct bpf_perf_event_data *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct sample_key key = {};
	__u64 one = 1, *count;

	if (target_pid && pid != target_pid)
		return 0;
	if (pid == 0 && !include_idle)
		return 0;
	key.pid = pid;
	key.kernel_stack_id = bpf_get_stackid(ctx, &stacks, 0);
	key.user_stack_id = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	bpf_get_current_comm(&key.comm, sizeof(key.comm));

	count = bpf_map_lookup_elem(&counts, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
	return 0;
}
