// SPDX-License-Identifier: GPL-2.0
// syslat: a histogram of system call latency. sys_enter stores a timestamp per thread, sys_exit
// takes the difference and adds one to the power-of-two bucket it falls in. Only the histogram
// leaves the kernel, never one event per call, so this stays cheap on a busy machine.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define MAX_SLOTS 32

// Thread (pid_tgid) -> when its current system call started, in ns.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, __u64);
} start SEC(".maps");

// Slot n counts the calls that took [2^n, 2^(n+1)) microseconds; slot 0 also takes < 1 us.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} hist SEC(".maps");

// Only this process (0: every process). .rodata: set before load, constant to the verifier.
const volatile __u32 target_pid = 0;

// floor(log2(v)) for v > 0, without loops (the verifier prefers straight-line code).
static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0, shift;

	shift = (v > 0xFFFFFFFF) << 5; v >>= shift; r |= shift;
	shift = (v > 0xFFFF) << 4; v >>= shift; r |= shift;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

SEC("raw_tp/sys_enter")
int syscall_enter(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 now = bpf_ktime_get_ns();

	if (target_pid && (id >> 32) != target_pid)
		return 0;
	bpf_map_update_elem(&start, &id, &now, BPF_ANY);
	return 0;
}

SEC("raw_tp/sys_exit")
int syscall_exit(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 *started, micros, *count;
	__u32 slot;

	started = bpf_map_lookup_elem(&start, &id);
	if (!started)
		return 0; // entered before we attached, or filtered out
	micros = (bpf_ktime_get_ns() - *started) / 1000;
	bpf_map_delete_elem(&start, &id);
	slot = micros ? log2_u64(micros) : 0;
	if (slot >= MAX_SLOTS)
		slot = MAX_SLOTS - 1;
	count = bpf_map_lookup_elem(&hist, &slot);
	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}
