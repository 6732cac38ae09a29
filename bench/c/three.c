// C baseline for load + attach + close: the `bpftool gen skeleton` way. <iterations> times,
// open_and_load + attach + destroy the three-program object embedded in three.skel.h; prints the
// median and every time in milliseconds.
// Usage: three <iterations>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "three.skel.h"

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 10;
  double times[n];
  for (int i = 0; i < n; i++) {
    double t0 = now_ms();
    struct three *skel = three__open_and_load();
    if (!skel) return perror("open_and_load"), 1;
    if (three__attach(skel)) return perror("attach"), 1;
    three__destroy(skel);
    times[i] = now_ms() - t0;
  }
  printf("{\"times\":[");
  for (int i = 0; i < n; i++) printf("%s%.4f", i ? "," : "", times[i]);
  qsort(times, n, sizeof(double), cmp);
  printf("],\"median_ms\":%.4f}\n", times[n / 2]);
  return 0;
}
