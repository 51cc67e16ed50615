/*
 * The kernel's own ceiling for the zero-copy rows of the bench: the same
 * two servers as bench/src/zerocopy-server.ts, in C on one epoll
 * (level-triggered), so the report shows what sendfile and splice cost
 * without JavaScript.
 *
 *   zerocopy-server file PATH    each connection gets the whole file by
 *                                sendfile (whole-file requests, waiting for
 *                                EPOLLOUT when the socket is full), then close
 *   zerocopy-server proxy PORT   each connection is relayed from
 *                                127.0.0.1:PORT with splice through a pipe of
 *                                1 MiB (F_SETPIPE_SZ; the download direction:
 *                                the bench's client sends nothing)
 *
 * Prints "port N" once listening on 127.0.0.1. Runs until killed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

enum { EVENTS_MAX = 256, FDS_MAX = 65536, PIPE_SIZE = 1 << 20 };

struct peer {
  int fd;       /* the client */
  int upstream; /* proxy: the origin; -1 for the file server */
  int pipe_read, pipe_write;
  off_t offset;   /* file: bytes sent */
  size_t pending; /* proxy: bytes in the pipe */
  int upstream_ended;
};

static struct peer *peers[FDS_MAX]; /* by client fd and by upstream fd */
static int epoll_fd, file_fd, origin_port;
static off_t file_size;
static int proxy;

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void finish(struct peer *peer) {
  epoll_ctl(epoll_fd, EPOLL_CTL_DEL, peer->fd, NULL);
  peers[peer->fd] = NULL;
  close(peer->fd);
  if (peer->upstream >= 0) {
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, peer->upstream, NULL);
    peers[peer->upstream] = NULL;
    close(peer->upstream);
    close(peer->pipe_read);
    close(peer->pipe_write);
  }
  free(peer);
}

static void watch(int fd, unsigned events, int op) {
  struct epoll_event event = {.events = events, .data.fd = fd};
  if (epoll_ctl(epoll_fd, op, fd, &event) < 0) die("epoll_ctl");
}

/* File server: sendfile until done or the socket is full. */
static void send_file(struct peer *peer) {
  while (peer->offset < file_size) {
    ssize_t sent = sendfile(peer->fd, file_fd, &peer->offset, (size_t)(file_size - peer->offset));
    if (sent < 0) {
      if (errno == EAGAIN) return; /* EPOLLOUT resumes */
      if (errno == EINTR) continue;
      finish(peer);
      return;
    }
  }
  shutdown(peer->fd, SHUT_WR);
  finish(peer);
}

/* Proxy: empty the pipe into the client, then fill it from the origin. */
static void relay(struct peer *peer) {
  for (;;) {
    while (peer->pending > 0) {
      ssize_t moved = splice(peer->pipe_read, NULL, peer->fd, NULL, peer->pending, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (moved < 0) {
        if (errno == EAGAIN) {
          watch(peer->fd, EPOLLOUT, EPOLL_CTL_MOD);
          watch(peer->upstream, 0, EPOLL_CTL_MOD); /* no reading until the client takes bytes */
          return;
        }
        if (errno == EINTR) continue;
        finish(peer);
        return;
      }
      peer->pending -= (size_t)moved;
    }
    if (peer->upstream_ended) {
      shutdown(peer->fd, SHUT_WR);
      finish(peer);
      return;
    }
    ssize_t got = splice(peer->upstream, NULL, peer->pipe_write, NULL, PIPE_SIZE, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (got == 0) peer->upstream_ended = 1;
    else if (got < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) {
        finish(peer);
        return;
      }
      watch(peer->fd, 0, EPOLL_CTL_MOD);
      watch(peer->upstream, EPOLLIN, EPOLL_CTL_MOD);
      return;
    } else {
      peer->pending += (size_t)got;
    }
  }
}

static void accept_all(int listener) {
  for (;;) {
    int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    if (fd >= FDS_MAX) {
      close(fd);
      continue;
    }
    struct peer *peer = calloc(1, sizeof *peer);
    if (peer == NULL) die("calloc");
    peer->fd = fd;
    peer->upstream = -1;
    peers[fd] = peer;
    if (!proxy) {
      watch(fd, EPOLLOUT, EPOLL_CTL_ADD);
      send_file(peer);
      continue;
    }
    int up = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)origin_port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int pipes[2];
    if (up < 0 || up >= FDS_MAX || connect(up, (struct sockaddr *)&address, sizeof address) < 0 || pipe2(pipes, O_NONBLOCK | O_CLOEXEC) < 0) die("upstream");
    fcntl(up, F_SETFL, O_NONBLOCK);
    fcntl(pipes[1], F_SETPIPE_SZ, PIPE_SIZE); /* refused: the default 64 KiB stays */
    peer->upstream = up;
    peer->pipe_read = pipes[0];
    peer->pipe_write = pipes[1];
    peers[up] = peer;
    watch(fd, 0, EPOLL_CTL_ADD);
    watch(up, EPOLLIN, EPOLL_CTL_ADD);
  }
}

int main(int argc, char **argv) {
  if (argc != 3 || (strcmp(argv[1], "file") != 0 && strcmp(argv[1], "proxy") != 0)) {
    fprintf(stderr, "usage: %s file PATH | proxy PORT\n", argv[0]);
    return 2;
  }
  proxy = strcmp(argv[1], "proxy") == 0;
  if (proxy) {
    origin_port = atoi(argv[2]);
  } else {
    struct stat status;
    file_fd = open(argv[2], O_RDONLY | O_CLOEXEC);
    if (file_fd < 0 || fstat(file_fd, &status) < 0) die(argv[2]);
    file_size = status.st_size;
  }
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t length = sizeof address;
  if (bind(listener, (struct sockaddr *)&address, sizeof address) < 0 || listen(listener, 1024) < 0) die("listen");
  getsockname(listener, (struct sockaddr *)&address, &length);
  epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  watch(listener, EPOLLIN, EPOLL_CTL_ADD);
  printf("port %d\n", ntohs(address.sin_port));
  fflush(stdout);
  struct epoll_event events[EVENTS_MAX];
  for (;;) {
    int count = epoll_wait(epoll_fd, events, EVENTS_MAX, -1);
    if (count < 0 && errno != EINTR) die("epoll_wait");
    for (int index = 0; index < count; index += 1) {
      int fd = events[index].data.fd;
      if (fd == listener) {
        accept_all(listener);
        continue;
      }
      struct peer *peer = peers[fd];
      if (peer == NULL) continue; /* finished earlier in this batch */
      if (!proxy) send_file(peer);
      else relay(peer);
    }
  }
}
