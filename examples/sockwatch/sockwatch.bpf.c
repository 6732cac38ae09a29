// SPDX-License-Identifier: GPL-2.0
// sockwatch: a socket filter on a raw packet socket. It runs on every frame the socket would
// receive, counts IPv4 frames per protocol, and lets only one protocol's frames through to the
// socket (its return value is how many bytes to keep; 0 drops the frame for this socket only).
// Which protocol is a .rodata constant that user space sets before load.

#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define ETH_P_IP 0x0800 // include/uapi/linux/if_ether.h
#define ETH_HLEN 14

// Set by user space before load (loadSockwatchSpec().variables); the verifier then sees a constant.
const volatile __u8 watch_protocol = IPPROTO_UDP;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32); // IPv4 protocol number
	__type(value, __u64); // frames seen
} frames SEC(".maps");

SEC("socket")
int watch(struct __sk_buff *skb)
{
	__u32 protocol = 0;
	__u8 proto_byte;
	__u64 *count;

	// A packet socket's filter sees the frame from its Ethernet header on.
	if (skb->protocol != bpf_htons(ETH_P_IP))
		return 0;
	// Socket filters cannot read packet memory directly: copy the byte out.
	if (bpf_skb_load_bytes(skb, ETH_HLEN + offsetof(struct iphdr, protocol), &proto_byte, 1) < 0)
		return 0;
	protocol = proto_byte;
	count = bpf_map_lookup_elem(&frames, &protocol);
	if (count)
		__sync_fetch_and_add(count, 1);
	return protocol == watch_protocol ? skb->len : 0;
}
