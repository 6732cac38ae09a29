// SPDX-License-Identifier: GPL-2.0
// execsnoop: every execve() on the machine, with the caller's pid, its parent's pid, its name,
// the file it asks the kernel to run and its first arguments. The syscalls/sys_enter_execve
// tracepoint fires on entry, before the new program replaces the caller, so comm is still the
// caller's name.

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define ARG_LEN 64	// bytes kept of each argument, its NUL included
#define MAX_ARGS 10	// arguments read, argv[0] included
#define ARGS_SIZE (ARG_LEN * MAX_ARGS)

struct exec_event {
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	__u32 args_count; // arguments in args
	char comm[16];
	char filename[160];
	// argv[0], argv[1], ... each NUL-terminated, one after the other, the rest zeroed: a string
	// would stop at the first NUL, so tsbpf.config.json decodes it as strings (string[]).
	char args[ARGS_SIZE];
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

	// args[1] is argv: a NULL-terminated array of pointers into the caller's memory. A reserved
	// record is not zeroed, and bytes after the last argument would read as more arguments.
	const char *const *argv = (const char *const *)ctx->args[1];
	__builtin_memset(e->args, 0, sizeof(e->args));
	__u32 used = 0;
	e->args_count = 0;
	for (int i = 0; i < MAX_ARGS; i++) {
		const char *arg = NULL;
		if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i]) || !arg)
			break;
		// The verifier must see that the read stays inside args: used + ARG_LEN <= ARGS_SIZE.
		if (used > ARGS_SIZE - ARG_LEN)
			break;
		long n = bpf_probe_read_user_str(&e->args[used], ARG_LEN, arg);
		if (n <= 0)
			break;
		used += n; // n counts the NUL: the next argument starts after it
		e->args_count++;
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}
