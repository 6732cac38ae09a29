// SPDX-License-Identifier: GPL-2.0
// bashreadline: every command line typed into an interactive bash on this machine.
// A uretprobe on bash's readline() sees its return value: the line just read, in bash's memory.
// Events go through a perf event array (one buffer per CPU), the older cousin of the ring buffer.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct readline_event {
	__u32 pid;
	__u32 uid;
	char line[120];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

// The section name is the attach point: the return of readline in /bin/bash.
SEC("uretprobe//bin/bash:readline")
int BPF_URETPROBE(bash_readline, const void *line)
{
	struct readline_event e = {};

	if (!line)
		return 0; // NULL: end of input (Ctrl-D)
	e.pid = bpf_get_current_pid_tgid() >> 32;
	e.uid = (__u32)bpf_get_current_uid_gid();
	bpf_probe_read_user_str(e.line, sizeof(e.line), line);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}
