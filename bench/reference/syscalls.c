/*
 * The same system calls as bench/src/binding-micro.ts, made from C: what
 * they cost without the JS -> Zig boundary, so the binding's own overhead
 * is the difference of two figures measured on the same machine.
 * Prints: <read EAGAIN ns> <64-byte write ns>, medians of 5 rounds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { ROUNDS = 5, READS_PER_ROUND = 200000, WRITES_PER_BATCH = 100, BATCHES_PER_ROUND = 1000, WRITE_SIZE = 64 };

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(void) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0) return 1;
  static char buffer[256 * 1024];
  double reads[ROUNDS], writes[ROUNDS];
  for (int round = 0; round < ROUNDS; round++) {
    double start = now_ns();
    for (int i = 0; i < READS_PER_ROUND; i++) {
      if (read(sv[0], buffer, 4096) != -1) return 2;
    }
    reads[round] = (now_ns() - start) / READS_PER_ROUND;
    double elapsed = 0;
    for (int batch = 0; batch < BATCHES_PER_ROUND; batch++) {
      start = now_ns();
      for (int i = 0; i < WRITES_PER_BATCH; i++) {
        if (write(sv[0], buffer, WRITE_SIZE) != WRITE_SIZE) return 3;
      }
      elapsed += now_ns() - start;
      while (read(sv[1], buffer, sizeof buffer) > 0) {
      }
    }
    writes[round] = elapsed / (WRITES_PER_BATCH * BATCHES_PER_ROUND);
  }
  qsort(reads, ROUNDS, sizeof reads[0], compare);
  qsort(writes, ROUNDS, sizeof writes[0], compare);
  printf("%.1f %.1f\n", reads[ROUNDS / 2], writes[ROUNDS / 2]);
  return 0;
}
