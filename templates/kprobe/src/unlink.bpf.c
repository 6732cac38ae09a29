// SPDX-License-Identifier: GPL-2.0-only
// Counts, per process, calls to the kernel function do_unlinkat (what unlink(2) and unlinkat(2)
// run: deleting a file) and how many of them failed.
//
// A kprobe runs at the entry of a kernel function, a kretprobe when it returns. Both update
// `stats`, a hash map from pid to counters that user space reads whenever it likes.
// Needs a kernel built with CONFIG_KPROBES (see /sys/bus/event_source/devices/kprobe).

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct unlink_stats {
	__u64 calls;
	__u64 failed;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32); // pid
	__type(value, struct unlink_stats);
} stats SEC(".maps");

static struct unlink_stats *stats_of_current(void)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct unlink_stats zero = {};
	struct unlink_stats *entry;

	entry = bpf_map_lookup_elem(&stats, &pid);
	if (entry)
		return entry;
	bpf_map_update_elem(&stats, &pid, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&stats, &pid);
}

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(kprobe_do_unlinkat)
{
	struct unlink_stats *entry = stats_of_current();

	if (entry)
		__sync_fetch_and_add(&entry->calls, 1);
	return 0;
}

SEC("kretprobe/do_unlinkat")
int BPF_KRETPROBE(kretprobe_do_unlinkat, long ret)
{
	struct unlink_stats *entry;

	if (ret == 0)
		return 0;
	entry = stats_of_current();
	if (entry)
		__sync_fetch_and_add(&entry->failed, 1);
	return 0;
}
