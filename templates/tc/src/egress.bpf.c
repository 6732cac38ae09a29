// SPDX-License-Identifier: GPL-2.0-only
// Counts the IPv4 packets and bytes an interface sends, per destination address.
//
// A tc (traffic control) classifier runs on each packet at the interface's clsact hook, here on
// egress, just before the packet goes to the driver. It returns a verdict too: TC_ACT_OK lets
// the packet go on unchanged. `traffic` is a hash map from destination to counters.

#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

// From include/uapi/linux/if_ether.h and pkt_cls.h (vmlinux.h has no #defines).
#define ETH_P_IP 0x0800
#define TC_ACT_OK 0

struct destination {
	__u8 daddr[4]; // IPv4 destination address, network byte order
};

struct traffic {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct destination);
	__type(value, struct traffic);
} traffic SEC(".maps");

SEC("tc")
int tc_egress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct destination key = {};
	struct traffic *seen;

	// The verifier insists on this bounds check before the headers are read.
	if ((void *)(ip + 1) > data_end)
		return TC_ACT_OK;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_OK; // only IPv4 is counted

	__builtin_memcpy(key.daddr, &ip->daddr, sizeof(key.daddr));
	seen = bpf_map_lookup_elem(&traffic, &key);
	if (seen) {
		__sync_fetch_and_add(&seen->packets, 1);
		__sync_fetch_and_add(&seen->bytes, skb->len);
	} else {
		struct traffic first = { .packets = 1, .bytes = skb->len };

		bpf_map_update_elem(&traffic, &key, &first, BPF_NOEXIST);
	}
	return TC_ACT_OK;
}
