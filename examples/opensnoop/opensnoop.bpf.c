// SPDX-License-Identifier: GPL-2.0
// opensnoop: every openat() on the machine with its result (a file descriptor or an error).
// Two tracepoints: sys_enter_openat keeps the arguments per thread in a hash map, and
// sys_exit_openat pairs them with the return value and sends one event.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct open_args {
	const char *filename;
	__s32 flags;
};

struct open_event {
	__u32 pid;
	__s32 ret; // the fd, or -errno
	__s32 flags;
	char comm[16];
	char filename[256];
};

// Arguments of the openat() calls in flight, by thread (pid_tgid).
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, struct open_args);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
	__type(value, struct open_event);
} events SEC(".maps");

// openat(dfd, filename, flags, mode): the tracepoint gives the arguments in ctx->args.
SEC("tracepoint/syscalls/sys_enter_openat")
int enter_openat(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct open_args args = {
		.filename = (const char *)ctx->args[1],
		.flags = (__s32)ctx->args[2],
	};

	bpf_map_update_elem(&inflight, &id, &args, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int exit_openat(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct open_args *args;
	struct open_event *e;

	args = bpf_map_lookup_elem(&inflight, &id);
	if (!args)
		return 0; // the enter ran before we attached
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		e->pid = id >> 32;
		e->ret = (__s32)ctx->ret;
		e->flags = args->flags;
		bpf_get_current_comm(e->comm, sizeof(e->comm));
		bpf_probe_read_user_str(e->filename, sizeof(e->filename), args->filename);
		bpf_ringbuf_submit(e, 0);
	}
	bpf_map_delete_elem(&inflight, &id);
	return 0;
}
