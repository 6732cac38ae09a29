// SPDX-License-Identifier: GPL-2.0
// execsnoop: every execve() on the machine, with the caller's pid, its parent's pid, its name
// and the file it asks the kernel to run. The syscalls/sys_enter_execve tracepoint fires on
// entry, before the new program replaces the caller, so comm is still the caller's name.

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct exec_event {
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	char comm[16];
	char filename[160];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
	__type(value, struct exec_event); // names the event type for the generated reader
} events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_execve")
int handle_execve(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct exec_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0; // ring full: user space is behind, the event is dropped
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid); // CO-RE: offsets fixed at load time
	e->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	// execve(filename, argv, envp): args[0] points into the caller's memory.
	bpf_probe_read_user_str(e->filename, sizeof(e->filename), (const char *)ctx->args[0]);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
