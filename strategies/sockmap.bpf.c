/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * sockmap's kernel side: an sk_skb verdict program on the input socket
 * redirects every skb it receives to the egress of the output socket (a
 * relay) or of itself (an echo), and counts the bytes it redirected.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* The input socket: the verdict program is attached to this map. */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} ingress SEC(".maps");

/* The redirect target: the output socket (the input socket itself for echo). */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} egress SEC(".maps");

/* Read by user space through the skeleton's mapping of .bss: no syscall. */
__u64 redirected_bytes = 0;
__u64 redirected_skbs = 0;
__u64 failed_skbs = 0;

/*
 * The one context field read, declared here rather than through
 * vmlinux.h's struct __sk_buff: vmlinux.h marks its types for CO-RE
 * relocation, and a single relocation makes libbpf parse the kernel's
 * whole BTF (5 MB here) at every load, i.e. twice per relayed connection
 * in copylab relay.  __sk_buff is UAPI: len is its first field, at offset
 * 0, on every kernel, so nothing needs relocating.
 */
struct skb_head {
	__u32 len;
};

/* stream_verdict with no parser: each skb as it arrives (libbpf 1.1 lacks "sk_skb/verdict") */
SEC("sk_skb/stream_verdict")
int relay_verdict(struct __sk_buff *skb)
{
	long verdict = bpf_sk_redirect_map(skb, &egress, 0, 0);

	if (verdict == SK_PASS) {
		__sync_fetch_and_add(&redirected_bytes, ((struct skb_head *)skb)->len);
		__sync_fetch_and_add(&redirected_skbs, 1);
	} else {
		__sync_fetch_and_add(&failed_skbs, 1);
	}
	return verdict;
}
