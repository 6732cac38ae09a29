// SPDX-License-Identifier: GPL-2.0-only
// Every line bash's readline() returns, with the pid of the bash that read it.
//
// A uretprobe runs when a user-space function returns. readline() returns the line the user
// typed (a char * in bash's memory); the program copies it into an event and sends it to user
// space through a perf event array, one buffer per CPU.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct event {
	__u32 pid;
	char line[80];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

// The section name tells libbpf where to attach: the return of readline in /bin/bash.
// BPF_URETPROBE names the return value (tsbpf's headers provide it where libbpf < 1.2 lacks it).
SEC("uretprobe//bin/bash:readline")
int BPF_URETPROBE(uretprobe_bash_readline, const void *ret)
{
	struct event event = {};

	if (!ret)
		return 0; // readline returns NULL at end of input (Ctrl-D)

	event.pid = bpf_get_current_pid_tgid() >> 32;
	bpf_probe_read_user_str(&event.line, sizeof(event.line), ret);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &event, sizeof(event));
	return 0;
}
