/*
 * The one-core ceiling for the HTTP benchmark: a plain C epoll server
 * (edge-triggered, one thread) that answers every request on GET / with
 * the same bytes as the http example ("hello world", keep-alive). Requests
 * are counted by their blank line, so pipelined requests get one response
 * each, all written with one write per read.
 *
 * Usage: http-server [PORT]   (0 or nothing: a free port)
 * Prints "port N" when listening; exits on SIGTERM.
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { EVENTS_MAX = 1024, READ_SIZE = 64 * 1024, PIPELINE_MAX = 1024 };

static const char RESPONSE[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world";
static char out[(sizeof RESPONSE - 1) * PIPELINE_MAX];
/* Bytes of "\r\n\r\n" matched so far, per fd, across reads. */
static unsigned char matched[1 << 16];

static volatile sig_atomic_t running = 1;
static void on_term(int signal_number) { (void)signal_number; running = 0; }

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 0;
  signal(SIGTERM, on_term);
  signal(SIGPIPE, SIG_IGN);
  for (int i = 0; i < PIPELINE_MAX; i++) memcpy(out + i * (sizeof RESPONSE - 1), RESPONSE, sizeof RESPONSE - 1);
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 4096) != 0) {
    perror("listen");
    return 1;
  }
  socklen_t size = sizeof address;
  getsockname(listener, (struct sockaddr *)&address, &size);
  printf("port %d\n", ntohs(address.sin_port));
  fflush(stdout);
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event event = {.events = EPOLLIN, .data.fd = listener};
  epoll_ctl(epfd, EPOLL_CTL_ADD, listener, &event);
  static struct epoll_event events[EVENTS_MAX];
  static char in[READ_SIZE];
  while (running) {
    int count = epoll_wait(epfd, events, EVENTS_MAX, 100);
    for (int e = 0; e < count; e++) {
      int fd = events[e].data.fd;
      if (fd == listener) {
        for (;;) {
          int client = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (client < 0) break;
          if (client >= (int)sizeof matched) { close(client); continue; }
          setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          matched[client] = 0;
          struct epoll_event client_event = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.fd = client};
          epoll_ctl(epfd, EPOLL_CTL_ADD, client, &client_event);
        }
        continue;
      }
      for (;;) {
        ssize_t got = read(fd, in, READ_SIZE);
        if (got <= 0) {
          if (got < 0 && errno == EAGAIN) break;
          close(fd); /* end of stream or error */
          break;
        }
        int requests = 0;
        unsigned char state = matched[fd];
        static const char END[] = "\r\n\r\n";
        for (ssize_t i = 0; i < got; i++) {
          state = in[i] == END[state] ? state + 1 : (in[i] == '\r' ? 1 : 0);
          if (state == 4) { requests++; state = 0; }
        }
        matched[fd] = state;
        if (requests > PIPELINE_MAX) requests = PIPELINE_MAX;
        if (requests > 0 && write(fd, out, requests * (sizeof RESPONSE - 1)) < 0 && errno != EAGAIN) { close(fd); break; }
        if (got < READ_SIZE) break; /* short read: the receive queue is empty, the next byte makes an edge */
      }
    }
  }
  close(epfd);
  close(listener);
  return 0;
}
