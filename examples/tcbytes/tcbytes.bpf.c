// SPDX-License-Identifier: GPL-2.0
// tcbytes: bytes and packets an interface sends, per EtherType and IP protocol, counted by a tc
// classifier on the interface's egress hook (clsact), just before the packet reaches the driver.

#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

// include/uapi/linux/if_ether.h and pkt_cls.h (vmlinux.h has no #defines)
#define ETH_P_IP 0x0800
#define TC_ACT_OK 0

struct traffic_key {
	__u16 ethertype; // host byte order: 0x0800 IPv4, 0x0806 ARP, 0x86dd IPv6
	__u8 protocol; // the IPv4 protocol (6 TCP, 17 UDP, ...); 0 for other EtherTypes
	__u8 pad;
};

struct traffic {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct traffic_key);
	__type(value, struct traffic);
} egress SEC(".maps");

SEC("tc")
int tc_egress_bytes(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct traffic_key key = { .ethertype = bpf_ntohs(skb->protocol) };
	struct traffic *seen;

	if (key.ethertype == ETH_P_IP) {
		struct iphdr *ip = data + sizeof(struct ethhdr);

		if ((void *)(ip + 1) <= data_end) // bounds check, or the verifier refuses the read
			key.protocol = ip->protocol;
	}
	seen = bpf_map_lookup_elem(&egress, &key);
	if (seen) {
		__sync_fetch_and_add(&seen->packets, 1);
		__sync_fetch_and_add(&seen->bytes, skb->len);
	} else {
		struct traffic first = { .packets = 1, .bytes = skb->len };

		bpf_map_update_elem(&egress, &key, &first, BPF_NOEXIST);
	}
	return TC_ACT_OK; // count only: the packet goes out unchanged
}
