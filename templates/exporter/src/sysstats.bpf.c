// SPDX-License-Identifier: GPL-2.0-only
// sysstats: system calls per process and the latency of every system call, kept in maps for a
// Prometheus exporter. The raw_syscalls tracepoints run on every system call of every process;
// only counts leave the kernel, read when Prometheus scrapes.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define MAX_SLOTS 32

struct proc_stats {
	__u64 syscalls;
	char comm[16];
};

// Process id (tgid) -> its system calls and name. Entries stay after the process exits, so the
// exported counters never go down; a full map stops counting new processes (see the README).
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct proc_stats);
} counts SEC(".maps");

// Thread (pid_tgid) -> when its current system call started, in ns.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, __u64);
} start SEC(".maps");

// Slot n counts the calls that took [2^n, 2^(n+1)) microseconds, slot 0 also those under 1 us;
// sum_ns is their total time, so the exported histogram's _sum is exact. One per CPU: no atomics.
struct latency_hist {
	__u64 slots[MAX_SLOTS];
	__u64 sum_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct latency_hist);
} latency SEC(".maps");

// floor(log2(v)) for v > 0, straight-line code the verifier accepts at once.
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

SEC("tracepoint/raw_syscalls/sys_enter")
int sys_enter(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32;
	__u64 now = bpf_ktime_get_ns();
	struct proc_stats *stats, fresh = { .syscalls = 1 };

	bpf_map_update_elem(&start, &id, &now, BPF_ANY);
	stats = bpf_map_lookup_elem(&counts, &pid);
	if (stats) {
		__sync_fetch_and_add(&stats->syscalls, 1); // threads on other CPUs count the same process
		return 0;
	}
	bpf_get_current_comm(fresh.comm, sizeof(fresh.comm));
	bpf_map_update_elem(&counts, &pid, &fresh, BPF_NOEXIST);
	return 0;
}

// A process's first system call runs before its execve(), under its parent's name: take the
// name it runs under from each exec.
SEC("tracepoint/sched/sched_process_exec")
int sched_exec(void *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct proc_stats *stats = bpf_map_lookup_elem(&counts, &pid);

	if (stats)
		bpf_get_current_comm(stats->comm, sizeof(stats->comm));
	return 0;
}

SEC("tracepoint/raw_syscalls/sys_exit")
int sys_exit(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 *started, elapsed, micros;
	__u32 zero = 0, slot;
	struct latency_hist *hist;

	started = bpf_map_lookup_elem(&start, &id);
	if (!started)
		return 0; // entered before the program was attached
	elapsed = bpf_ktime_get_ns() - *started;
	bpf_map_delete_elem(&start, &id);
	hist = bpf_map_lookup_elem(&latency, &zero);
	if (!hist)
		return 0;
	micros = elapsed / 1000;
	slot = micros ? log2_u64(micros) : 0;
	if (slot >= MAX_SLOTS)
		slot = MAX_SLOTS - 1;
	// The empty asm hides the clamp from clang, so the mask stays: a bound the verifier can see.
	asm volatile("" : "+r"(slot));
	hist->slots[slot & (MAX_SLOTS - 1)]++;
	hist->sum_ns += elapsed;
	return 0;
}
