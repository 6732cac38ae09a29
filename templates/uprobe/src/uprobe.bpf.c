// SPDX-License-Identifier: GPL-2.0-only
// The arguments of a user-space function at each call: greet(const char *name, int times) in
// target/greeter.c. src/main.ts chooses the binary and the function when it attaches.
//
// A uprobe runs at the first instruction of a function in a program or library, with the
// caller's registers: the arguments are where the CPU's calling convention puts them, and
// BPF_UPROBE names them (tsbpf's headers provide it where libbpf < 1.2 lacks it). Events go through a ring
// buffer, shared by all CPUs and read in order.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct event {
	__u32 pid;
	__s32 times;
	char name[32];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

// No target in the section name: main.ts attaches it to a binary and symbol it chooses.
SEC("uprobe")
int BPF_UPROBE(uprobe_greet, const char *name, int times)
{
	struct event *event;

	event = bpf_ringbuf_reserve(&events, sizeof(*event), 0);
	if (!event)
		return 0; // the ring is full: user space is not keeping up

	event->pid = bpf_get_current_pid_tgid() >> 32;
	event->times = times;
	bpf_probe_read_user_str(&event->name, sizeof(event->name), name);
	bpf_ringbuf_submit(event, 0);
	return 0;
}
