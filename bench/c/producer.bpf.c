// Event producer shared by the ring buffer and perf buffer benchmarks. An XDP program does
// nothing with its packet: each run emits BATCH events, and the bench runs it with
// BPF_PROG_TEST_RUN (repeat = many) from bench/c/producer.c, identically for the C consumer and
// the tsbpf reader. EVENT_SIZE (bytes, >= 32, multiple of 8) is set on the clang command line so
// one source gives the objects for every point of the events/s-against-size plot; -DSCALARS gives
// a 32-byte event of integers alone.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#ifndef EVENT_SIZE
#define EVENT_SIZE 32
#endif
#define BATCH 64
// A timestamp-like u64 below 2^53 with both 32-bit halves non-zero, so the objects figures can also
// be taken with fieldAs "number" for ts (a larger value would rightly make that decoder throw).
#define TS 0x000f0e0d0c0b0a09ULL

struct event {
  __u64 ts;
  __u32 seq;
  __u32 cpu;
  __u32 pid;
  __u32 flags;
#ifdef SCALARS
  // The same 32 bytes with no byte array: what decoding an event of numbers alone costs.
  __u64 cookie;
#else
  __u8 payload[EVENT_SIZE - 24];
#endif
};

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 24);
} rb SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
} perf SEC(".maps");

// Per-CPU scratch event for perf output (events up to 1 KiB do not fit the BPF stack).
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct event);
} scratch SEC(".maps");

// [0] events emitted, [1] events dropped because the buffer was full.
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, __u64);
} stats SEC(".maps");

static __always_inline void count(__u32 slot, __u64 n) {
  __u64 *v = bpf_map_lookup_elem(&stats, &slot);
  if (v) *v += n;
}

SEC("xdp")
int produce_ringbuf(struct xdp_md *ctx) {
  __u64 ok = 0, dropped = 0;
  __u32 cpu = bpf_get_smp_processor_id();
  for (__u32 i = 0; i < BATCH; i++) {
    struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
    if (!e) {
      dropped++;
      continue;
    }
    e->ts = TS;
    e->seq = i;
    e->cpu = cpu;
    e->pid = 42;
    e->flags = EVENT_SIZE;
    // Wake the consumer once per run, not per event, as a high-rate producer would.
    bpf_ringbuf_submit(e, i == BATCH - 1 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
    ok++;
  }
  count(0, ok);
  count(1, dropped);
  return XDP_PASS;
}

SEC("xdp")
int produce_perf(struct xdp_md *ctx) {
  __u32 zero = 0;
  __u64 ok = 0, dropped = 0;
  struct event *e = bpf_map_lookup_elem(&scratch, &zero);
  if (!e) return XDP_PASS;
  e->ts = TS;
  e->cpu = bpf_get_smp_processor_id();
  e->pid = 42;
  e->flags = EVENT_SIZE;
  for (__u32 i = 0; i < BATCH; i++) {
    e->seq = i;
    if (bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, e, sizeof(*e)) == 0)
      ok++;
    else
      dropped++;
  }
  count(0, ok);
  count(1, dropped);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
