// SPDX-License-Identifier: GPL-2.0-only
// A small execsnoop: every execve() on the machine, with the pid, the parent's pid, the name
// of the process that called it, and the file it runs.
//
// A tracepoint is a stable hook the kernel defines (list them under
// /sys/kernel/tracing/events); syscalls/sys_enter_execve fires when a process calls execve,
// with the system call's arguments in ctx->args. Events go through a ring buffer.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

struct event {
	__u32 pid;
	__u32 ppid;
	char comm[16];
	char filename[128];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_execve")
int tracepoint_execve(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct event *event;

	event = bpf_ringbuf_reserve(&events, sizeof(*event), 0);
	if (!event)
		return 0; // the ring is full: user space is not keeping up

	event->pid = bpf_get_current_pid_tgid() >> 32;
	// CO-RE read: libbpf fixes the field offsets for the running kernel at load time.
	event->ppid = BPF_CORE_READ(task, real_parent, tgid);
	bpf_get_current_comm(&event->comm, sizeof(event->comm));
	// execve(filename, argv, envp): the first argument points into the caller's memory.
	bpf_probe_read_user_str(&event->filename, sizeof(event->filename), (const char *)ctx->args[0]);
	bpf_ringbuf_submit(event, 0);
	return 0;
}
