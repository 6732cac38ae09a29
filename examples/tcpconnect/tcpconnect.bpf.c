// SPDX-License-Identifier: GPL-2.0
// tcpconnect: every outgoing TCP connection attempt (connect()), with the process that made it
// and the destination. The sock/inet_sock_set_state tracepoint fires on each TCP state change;
// an active open is the change from CLOSE to SYN_SENT, which runs in the connecting process.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define AF_INET6 10 // include/linux/socket.h (vmlinux.h has no #defines)

struct connect_event {
	__u32 pid;
	__u32 uid;
	__u16 family; // AF_INET (2) or AF_INET6 (10)
	__u16 dport; // host byte order: the tracepoint converts it
	__u8 daddr[16]; // IPv4 uses the first 4 bytes; network byte order
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
	__type(value, struct connect_event);
} events SEC(".maps");

SEC("tracepoint/sock/inet_sock_set_state")
int on_state_change(struct trace_event_raw_inet_sock_set_state *ctx)
{
	struct connect_event *e;

	if (ctx->protocol != IPPROTO_TCP || ctx->oldstate != TCP_CLOSE || ctx->newstate != TCP_SYN_SENT)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->family = ctx->family;
	e->dport = ctx->dport;
	// A memcpy from ctx would compile to loads through a moved ctx pointer, which the verifier
	// refuses ("dereference of modified ctx ptr"): copy the addresses with a helper instead.
	if (ctx->family == AF_INET6)
		bpf_probe_read_kernel(e->daddr, 16, ctx->daddr_v6);
	else {
		__builtin_memset(e->daddr, 0, 16);
		bpf_probe_read_kernel(e->daddr, 4, ctx->daddr);
	}
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}
