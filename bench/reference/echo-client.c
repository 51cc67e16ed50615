/*
 * Echo load generator: CONNECTIONS connections to 127.0.0.1:PORT, each
 * sending SIZE bytes and waiting for SIZE bytes back, over and over, for
 * SECONDS seconds (bounded by time and by ROUND_TRIPS_MAX). One thread, one
 * epoll, level-triggered: C, so the client costs as little CPU as possible
 * and the server is what is measured.
 *
 * Usage: echo-client PORT CONNECTIONS SIZE SECONDS
 * Prints one JSON line: round trips, elapsed seconds, client CPU seconds,
 * latency percentiles in microseconds (p50, p99, max; a round trip still
 * waiting at the end counts with the time it has waited), errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { CONNECTIONS_MAX = 10000, SIZE_MAX_BYTES = 1 << 20, SAMPLES_MAX = 1 << 20 };
static const long ROUND_TRIPS_MAX = 1000000000L;

struct peer {
  int fd;
  size_t sent, received;
  double started;
};

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static int compare(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s PORT CONNECTIONS SIZE SECONDS\n", argv[0]);
    return 2;
  }
  int port = atoi(argv[1]), connections = atoi(argv[2]), size = atoi(argv[3]);
  double seconds = atof(argv[4]);
  if (connections < 1 || connections > CONNECTIONS_MAX || size < 1 || size > SIZE_MAX_BYTES || seconds <= 0 || seconds > 600) return 2;
  static char out[SIZE_MAX_BYTES], in[SIZE_MAX_BYTES];
  memset(out, 'x', size);
  static struct peer peers[CONNECTIONS_MAX];
  static float samples[SAMPLES_MAX];
  long sample_count = 0, round_trips = 0, errors = 0;
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  for (int i = 0; i < connections; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
      perror("connect");
      return 1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    peers[i] = (struct peer){.fd = fd};
    struct epoll_event event = {.events = EPOLLIN, .data.u32 = i};
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
  }
  double start = now(), deadline = start + seconds;
  for (int i = 0; i < connections; i++) {
    peers[i].started = now();
    if (write(peers[i].fd, out, size) != size) errors++;
  }
  struct epoll_event events[256];
  while (now() < deadline && round_trips < ROUND_TRIPS_MAX) {
    int count = epoll_wait(epfd, events, 256, 100);
    for (int e = 0; e < count; e++) {
      struct peer *p = &peers[events[e].data.u32];
      ssize_t rc = read(p->fd, in, size - p->received);
      if (rc <= 0) {
        if (rc < 0 && errno == EAGAIN) continue;
        errors++;
        epoll_ctl(epfd, EPOLL_CTL_DEL, p->fd, NULL);
        continue;
      }
      p->received += rc;
      if (p->received < (size_t)size) continue;
      double t = now();
      if (sample_count < SAMPLES_MAX) samples[sample_count++] = (float)((t - p->started) * 1e6);
      round_trips++;
      p->received = 0;
      p->started = t;
      if (write(p->fd, out, size) != size) errors++;
    }
  }
  double elapsed = now() - start;
  /* A round trip still waiting at the end counts with the time it has waited
   * so far: a server that starves a connection for the whole run must show
   * it in the percentiles, not drop out of them. */
  double end = now();
  for (int i = 0; i < connections; i++) {
    if (sample_count < SAMPLES_MAX) samples[sample_count++] = (float)((end - peers[i].started) * 1e6);
  }
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  double cpu = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
  qsort(samples, sample_count, sizeof samples[0], compare);
  float p50 = sample_count ? samples[sample_count / 2] : 0, p99 = sample_count ? samples[(long)(sample_count * 0.99)] : 0, max = sample_count ? samples[sample_count - 1] : 0;
  printf("{\"roundTrips\":%ld,\"elapsed\":%.4f,\"clientCpu\":%.4f,\"p50us\":%.1f,\"p99us\":%.1f,\"maxus\":%.1f,\"errors\":%ld}\n", round_trips, elapsed, cpu, p50, p99, max, errors);
  for (int i = 0; i < connections; i++) close(peers[i].fd);
  return 0;
}
