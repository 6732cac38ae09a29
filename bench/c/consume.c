// The C baseline for the ring buffer and perf buffer benchmarks: libbpf's ring_buffer / perf_buffer
// consumer of bench/c/producer.bpf.c. It starts bench/c/producer.c with the producer program as
// fd 3, consumes until the producer has exited and the buffer is empty, and prints one JSON line.
// Each event is copied out (as a decoder would) and two fields are summed so no work is elided.
//
// Two modes, the same in bench/lib/consume-ts.js:
//   stream: the producer process runs for <seconds> while we consume; events/s over the time
//           events arrived, plus events the kernel dropped (buffer full) and perf's lost count.
//   drain:  <rounds> times, run the producer program <runs> times in this process with
//           BPF_PROG_TEST_RUN (no one waiting, the buffer fills), then time reading it all out:
//           the consumer's own capacity, undisturbed by a producer on a 2-core machine. One
//           untimed round first warms up (page tables and caches here, the JIT on the tsbpf side).
// Usage: consume ringbuf|perf <object.o> stream <seconds> <producer-binary> [pages]
//        consume ringbuf|perf <object.o> drain <rounds> <runs> [pages]
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned long long events, checksum;
static unsigned long long perf_lost;
static char copy[4096];

static double clock_seconds(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double now(void) { return clock_seconds(CLOCK_MONOTONIC); }
// CPU time of the process: less swayed than wall time by other work on a busy machine.
static double cpu_now(void) { return clock_seconds(CLOCK_PROCESS_CPUTIME_ID); }

static void take(const void *data, size_t size) {
  memcpy(copy, data, size < sizeof(copy) ? size : sizeof(copy));
  // seq + flags, the two fields the tsbpf side reads (struct event in producer.bpf.c).
  checksum += *(unsigned int *)(copy + 8) + *(unsigned int *)(copy + 20);
  events++;
}

static int on_ring(void *ctx, void *data, size_t size) {
  take(data, size);
  return 0;
}

static void on_sample(void *ctx, int cpu, void *data, __u32 size) { take(data, size); }
static void on_lost(void *ctx, int cpu, __u64 n) { perf_lost += n; }

static void stats(int fd, unsigned long long out[2]) {
  int ncpu = libbpf_num_possible_cpus();
  unsigned long long values[ncpu];
  for (__u32 k = 0; k < 2; k++) {
    out[k] = 0;
    if (bpf_map_lookup_elem(fd, &k, values) == 0)
      for (int c = 0; c < ncpu; c++) out[k] += values[c];
  }
}

static int drain_rounds(int ring, struct ring_buffer *rb, struct perf_buffer *pb, int prog, int stats_fd, int rounds, int runs) {
  unsigned char packet[64] = {0};
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet, .data_size_in = sizeof(packet), .repeat = runs);
  double total = 0, cpu = 0;
  // Round 0 warms up (page tables, caches; the JIT on the tsbpf side) and is not counted.
  for (int r = 0; r <= rounds; r++) {
    if (bpf_prog_test_run_opts(prog, &opts)) return perror("test run"), 1;
    double t0 = now(), c0 = cpu_now();
    while ((ring ? ring_buffer__consume(rb) : perf_buffer__consume(pb)) > 0) {
    }
    if (r == 0) events = checksum = 0;
    else total += now() - t0, cpu += cpu_now() - c0;
  }
  unsigned long long st[2];
  stats(stats_fd, st);
  printf("{\"events\":%llu,\"seconds\":%.6f,\"rate\":%.1f,\"cpu_seconds\":%.6f,\"emitted\":%llu,\"dropped\":%llu,\"lost\":%llu,\"checksum\":%llu}\n",
         events, total, events / total, cpu, st[0], st[1], perf_lost, checksum);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: consume ringbuf|perf <object.o> stream <seconds> <producer> [pages] | drain <rounds> <runs> [pages]\n");
    return 2;
  }
  int drain = strcmp(argv[3], "drain") == 0;
  int pages = argc > 6 ? atoi(argv[6]) : 64;
  int ring = strcmp(argv[1], "ringbuf") == 0;
  struct bpf_object *obj = bpf_object__open_file(argv[2], NULL);
  if (!obj) return perror("open"), 1;
  bpf_program__set_autoload(bpf_object__find_program_by_name(obj, ring ? "produce_perf" : "produce_ringbuf"), false);
  if (bpf_object__load(obj)) return perror("load"), 1;
  int prog = bpf_program__fd(bpf_object__find_program_by_name(obj, ring ? "produce_ringbuf" : "produce_perf"));
  int stats_fd = bpf_map__fd(bpf_object__find_map_by_name(obj, "stats"));

  struct ring_buffer *rb = NULL;
  struct perf_buffer *pb = NULL;
  if (ring) rb = ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(obj, "rb")), on_ring, NULL, NULL);
  else pb = perf_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(obj, "perf")), pages, on_sample, on_lost, NULL, NULL);
  if (!rb && !pb) return perror("buffer"), 1;

  if (drain) return drain_rounds(ring, rb, pb, prog, stats_fd, atoi(argv[4]), atoi(argv[5]));

  pid_t child = fork();
  if (child == 0) {
    dup2(prog, 3);
    execl(argv[5], argv[5], argv[4], (char *)NULL);
    _exit(127);
  }
  double first = 0, last = 0;
  int done = 0, status = 0;
  for (;;) {
    unsigned long long before = events;
    double t0 = now();
    int n = ring ? ring_buffer__poll(rb, 10) : perf_buffer__poll(pb, 10);
    if (n < 0 && n != -4) return fprintf(stderr, "poll: %d\n", n), 1;
    if (events != before) {
      last = now();
      if (first == 0) first = t0;
      continue;
    }
    if (done) break;
    if (waitpid(child, &status, WNOHANG) == child) done = 1;
  }
  unsigned long long st[2];
  stats(stats_fd, st);
  printf("{\"events\":%llu,\"seconds\":%.6f,\"rate\":%.1f,\"emitted\":%llu,\"dropped\":%llu,\"lost\":%llu,\"checksum\":%llu,\"producer_ok\":%s}\n",
         events, last - first, events / (last - first), st[0], st[1], perf_lost, checksum,
         WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "true" : "false");
  ring_buffer__free(rb);
  perf_buffer__free(pb);
  bpf_object__close(obj);
  return 0;
}
