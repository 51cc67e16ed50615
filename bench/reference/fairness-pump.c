/*
 * The fairness scenario's firehoses, queued before the measurement so that
 * they need none of the measuring client's CPU: CONNECTIONS connections to
 * 127.0.0.1:PORT, each with a send buffer raised (SO_SNDBUFFORCE, root;
 * SO_SNDBUF otherwise) to hold BYTES, each given BYTES of 'F' (the echo
 * server drops a stream that starts with it, and holds it unread until
 * told). Once every byte is with the kernel, prints "filled" and sleeps
 * until killed: from then on the kernel alone feeds the server, as fast as
 * the server reads, with the transmits done in the server's own context
 * (the ACKs it sends release them).
 *
 * Usage: fairness-pump PORT CONNECTIONS BYTES
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { CONNECTIONS_MAX = 64, BLOCK = 256 * 1024 };
static const long BYTES_MAX = 1L << 30;
static char block[BLOCK];

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s PORT CONNECTIONS BYTES\n", argv[0]);
    return 2;
  }
  int port = atoi(argv[1]), connections = atoi(argv[2]);
  long bytes = atol(argv[3]);
  if (connections < 1 || connections > CONNECTIONS_MAX || bytes < 1 || bytes > BYTES_MAX) {
    fprintf(stderr, "fairness-pump: 1..%d connections of 1..%ld bytes\n", CONNECTIONS_MAX, BYTES_MAX);
    return 2;
  }
  memset(block, 'F', sizeof block);
  int fds[CONNECTIONS_MAX];
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int buffer = (int)(bytes + BLOCK);
  for (int index = 0; index < connections; index += 1) {
    fds[index] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fds[index] < 0) {
      perror("socket");
      return 1;
    }
    /* Without root the send buffer stays small and the writes below would
     * wait for a server that holds the firehoses unread: refuse instead. */
    if (setsockopt(fds[index], SOL_SOCKET, SO_SNDBUFFORCE, &buffer, sizeof buffer) < 0) {
      fprintf(stderr, "fairness-pump: SO_SNDBUFFORCE refused (%s): the firehoses need root\n", strerror(errno));
      return 3;
    }
    if (connect(fds[index], (struct sockaddr *)&address, sizeof address) < 0) {
      perror("connect");
      return 1;
    }
  }
  for (int index = 0; index < connections; index += 1) {
    long left = bytes;
    while (left > 0) {
      ssize_t sent = write(fds[index], block, (size_t)(left < BLOCK ? left : BLOCK));
      if (sent < 0) {
        if (errno == EINTR) continue;
        perror("write");
        return 1;
      }
      left -= sent;
    }
  }
  printf("filled\n");
  fflush(stdout);
  for (;;) pause(); /* the connections stay open until the bench kills this */
}
