// C baseline for probe start-up: the uretprobe template's program (templates/uretprobe) through a
// `bpftool gen skeleton` skeleton: open_and_load, attach, a perf buffer on `events`, then print
// the first event as the template's main.ts does ("PID\tLINE") and exit.
// Usage: readline
#include <stdio.h>
#include <bpf/libbpf.h>
#include "readline.skel.h"

struct event {
  unsigned int pid;
  char line[80];
};

static volatile int seen;

static void on_sample(void *ctx, int cpu, void *data, unsigned int size) {
  const struct event *e = data;
  printf("%u\t%s\n", e->pid, e->line);
  fflush(stdout);
  seen = 1;
}

int main(void) {
  struct readline *skel = readline__open_and_load();
  if (!skel) return perror("open_and_load"), 1;
  if (readline__attach(skel)) return perror("attach"), 1;
  struct perf_buffer *pb = perf_buffer__new(bpf_map__fd(skel->maps.events), 8, on_sample, NULL, NULL, NULL);
  if (!pb) return perror("perf_buffer__new"), 1;
  printf("PID\tLINE\n");
  fflush(stdout);
  while (!seen) perf_buffer__poll(pb, 100);
  perf_buffer__free(pb);
  readline__destroy(skel);
  return 0;
}
