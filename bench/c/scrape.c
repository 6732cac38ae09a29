// C baseline for the scrape benchmark (bench/lib/scrape-ts.js does the same from TypeScript):
// fill <n> entries of pid -> {syscalls, comm}, then per scrape read them all with
// BPF_MAP_LOOKUP_BATCH (256 per call) and write the Prometheus text a C exporter would send,
// one counter line per pid. Prints {"scrapes","seconds","rate","bytes"} after one untimed scrape.
// Usage: scrape <object.o> <n> <scrapes>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct proc_stats {
  unsigned long long syscalls;
  char comm[16];
};

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 4) return fprintf(stderr, "usage: scrape <object.o> <n> <scrapes>\n"), 2;
  __u32 n = atoi(argv[2]);
  int scrapes = atoi(argv[3]);
  struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
  if (!obj || bpf_object__load(obj)) return perror("load"), 1;
  int fd = bpf_map__fd(bpf_object__find_map_by_name(obj, "counts"));
  __u32 *keys = calloc(n + 256, sizeof(*keys));
  struct proc_stats *values = calloc(n + 256, sizeof(*values));
  for (__u32 i = 0; i < n; i++) {
    keys[i] = i + 1;
    values[i].syscalls = (unsigned long long)i * 7;
    snprintf(values[i].comm, sizeof(values[i].comm), "proc%u", i % 500);
  }
  __u32 count = n;
  if (bpf_map_update_batch(fd, keys, values, &count, NULL)) return perror("update batch"), 1;
  size_t cap = (size_t)n * 96 + 4096, bytes = 0;
  char *text = malloc(cap);
  double t0 = now();
  for (int s = 0; s <= scrapes; s++) {
    if (s == 1) t0 = now();
    __u32 token = 0, got = 0;
    void *in = NULL;
    for (;;) {
      __u32 chunk = 256;
      int err = bpf_map_lookup_batch(fd, in, &token, keys + got, values + got, &chunk, NULL);
      got += chunk;
      if (err && errno == ENOENT) break;
      if (err) return perror("lookup batch"), 1;
      in = &token;
    }
    size_t len = snprintf(text, cap, "# HELP sysstats_syscalls_total System calls.\n# TYPE sysstats_syscalls_total counter\n");
    for (__u32 i = 0; i < got; i++)
      len += snprintf(text + len, cap - len, "sysstats_syscalls_total{pid=\"%u\",comm=\"%s\"} %llu\n", keys[i],
                      values[i].comm, values[i].syscalls);
    bytes = len;
  }
  double t = now() - t0;
  printf("{\"scrapes\":%d,\"seconds\":%.6f,\"rate\":%.3f,\"bytes\":%zu}\n", scrapes, t, scrapes / t, bytes);
  bpf_object__close(obj);
  return 0;
}
