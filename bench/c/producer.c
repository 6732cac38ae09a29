// The one producer both consumers share: runs an XDP program (fd 3, inherited from the consumer)
// with BPF_PROG_TEST_RUN for a fixed time, then prints how many program runs it made.
// Usage: producer <seconds> [repeat]
#include <bpf/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  int repeat = argc > 2 ? atoi(argv[2]) : 256;
  unsigned char packet[64];
  memset(packet, 0, sizeof(packet));
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet, .data_size_in = sizeof(packet), .repeat = repeat);
  long long runs = 0;
  double end = now() + seconds;
  while (now() < end) {
    int err = bpf_prog_test_run_opts(3, &opts);
    if (err) {
      fprintf(stderr, "producer: BPF_PROG_TEST_RUN failed: %d\n", err);
      return 1;
    }
    runs += repeat;
  }
  fprintf(stderr, "producer: %lld runs\n", runs);
  return 0;
}
