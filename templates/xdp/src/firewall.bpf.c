// SPDX-License-Identifier: GPL-2.0-only
// Counts IPv4 packets per source address and protocol, and drops those whose source is not in
// an allowlist of address prefixes.
//
// An XDP program runs on each packet a network interface receives, before the kernel's network
// stack sees it, and returns a verdict: XDP_PASS lets the packet through, XDP_DROP discards it.
// `stats` is a hash map the program updates; `allowlist` is an LPM (longest prefix match) trie
// that user space fills with prefixes like 10.0.0.0/8.

#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define ETH_P_IP 0x0800 // from include/uapi/linux/if_ether.h (vmlinux.h has no #defines)

struct flow_key {
	__u8 saddr[4]; // IPv4 source address, network byte order
	__u32 protocol; // IPPROTO_*: 1 ICMP, 6 TCP, 17 UDP
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct flow_key);
	__type(value, __u64); // packets
} stats SEC(".maps");

// An LPM trie key is the prefix length in bits followed by the address bytes.
struct prefix_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC); // required for LPM tries
	__type(key, struct prefix_key);
	__type(value, __u32); // unused: presence is what counts
} allowlist SEC(".maps");

SEC("xdp")
int xdp_firewall(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct flow_key key = {};
	struct prefix_key prefix = { .prefixlen = 32 };
	__u64 one = 1, *packets;

	// The verifier insists on these bounds checks before each header is read.
	if ((void *)(ip + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS; // only IPv4 is counted and filtered; ARP, IPv6 and the rest pass

	__builtin_memcpy(key.saddr, &ip->saddr, sizeof(key.saddr));
	key.protocol = ip->protocol;
	packets = bpf_map_lookup_elem(&stats, &key);
	if (packets)
		__sync_fetch_and_add(packets, 1);
	else
		bpf_map_update_elem(&stats, &key, &one, BPF_NOEXIST);

	__builtin_memcpy(prefix.addr, &ip->saddr, sizeof(prefix.addr));
	return bpf_map_lookup_elem(&allowlist, &prefix) ? XDP_PASS : XDP_DROP;
}
