// SPDX-License-Identifier: GPL-2.0
// xdpcount: packets an interface receives, per IP protocol, counted by XDP before the kernel's
// network stack sees them. A per-CPU array has one counter slot per CPU, so no two CPUs ever
// write the same memory and no atomic operation is needed; user space sums the slots.

#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define ETH_P_IP 0x0800 // include/uapi/linux/if_ether.h
#define ETH_P_IPV6 0x86DD
#define NOT_IP 256 // the slot for frames that are neither IPv4 nor IPv6 (ARP, ...)

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 257); // IP protocol numbers 0..255, and NOT_IP
	__type(key, __u32);
	__type(value, __u64);
} packets SEC(".maps");

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 slot = NOT_IP;
	__u64 *count;

	// The verifier rejects any packet read that is not bounds-checked first.
	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end)
			return XDP_PASS;
		slot = ip->protocol;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return XDP_PASS;
		slot = ip6->nexthdr;
	}
	count = bpf_map_lookup_elem(&packets, &slot);
	if (count)
		*count += 1; // this CPU's own slot: no atomics needed
	return XDP_PASS; // count only; every packet goes on
}
