// C baseline for the map benchmarks (bench/lib/maps-ts.js does the same from TypeScript): per
// round, write <n> u32 -> u64 entries and read them all back, either with one syscall per entry
// (single) or with BPF_MAP_UPDATE_BATCH / BPF_MAP_LOOKUP_BATCH, 256 entries per lookup call, as
// the tsbpf HashMap's getBatch does. Prints {"ops","seconds","rate"}; ops = 2 * n * rounds (after
// one untimed warm-up round).
// Usage: maps single|batch <object.o> <n> <rounds>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
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
  if (argc < 5) return fprintf(stderr, "usage: maps single|batch <object.o> <n> <rounds>\n"), 2;
  int batch = strcmp(argv[1], "batch") == 0;
  __u32 n = atoi(argv[3]);
  int rounds = atoi(argv[4]);
  struct bpf_object *obj = bpf_object__open_file(argv[2], NULL);
  if (!obj || bpf_object__load(obj)) return perror("load"), 1;
  int fd = bpf_map__fd(bpf_object__find_map_by_name(obj, "counts"));
  __u32 *keys = calloc(n, sizeof(*keys)), *outk = calloc(n + 256, sizeof(*outk));
  __u64 *values = calloc(n, sizeof(*values)), *outv = calloc(n + 256, sizeof(*outv));
  unsigned long long sum = 0, ops = 0;
  double t0 = now();
  // Round 0 warms up (the JIT on the tsbpf side) and is not timed; r * i values start at round 1.
  for (int r = 0; r <= rounds; r++) {
    if (r == 1) t0 = now();
    for (__u32 i = 0; i < n; i++) {
      keys[i] = i;
      values[i] = (__u64)i * r;
    }
    if (batch) {
      __u32 count = n;
      if (bpf_map_update_batch(fd, keys, values, &count, NULL)) return perror("update batch"), 1;
      __u32 token = 0, got = 0;
      void *in = NULL;
      for (;;) {
        __u32 chunk = 256;
        int err = bpf_map_lookup_batch(fd, in, &token, outk + got, outv + got, &chunk, NULL);
        got += chunk;
        if (err && errno == ENOENT) break;
        if (err) return perror("lookup batch"), 1;
        in = &token;
      }
      for (__u32 i = 0; i < got; i++) sum += outv[i];
    } else {
      for (__u32 i = 0; i < n; i++)
        if (bpf_map_update_elem(fd, &keys[i], &values[i], BPF_ANY)) return perror("update"), 1;
      for (__u32 i = 0; i < n; i++) {
        __u64 v;
        if (bpf_map_lookup_elem(fd, &keys[i], &v)) return perror("lookup"), 1;
        sum += v;
      }
    }
    if (r > 0) ops += 2ULL * n;
  }
  double t = now() - t0;
  printf("{\"ops\":%llu,\"seconds\":%.6f,\"rate\":%.1f,\"checksum\":%llu}\n", ops, t, ops / t, sum);
  bpf_object__close(obj);
  return 0;
}
