/**
 * A TCP echo server on the raw binding (no reactor): one level-triggered
 * poller, reads into one buffer, writes straight back. It shows the native
 * layer's contract in one screen; real servers use the reactor.
 */
import { binding, constants, errnoError, listenTcp, openPoller, type Listener } from 'zepoll';

const READ_SIZE = 64 * 1024;
const ACCEPT_BATCH = 64;
const ERRNO_EAGAIN = -11;

export interface RawEchoServer {
  readonly listener: Listener;
  close(): void;
}

export function startRawEcho(host: string, port: number): RawEchoServer {
  const listener = listenTcp({ host, port });
  const { native: poller, events } = openPoller();
  const buffer = new Uint8Array(READ_SIZE);
  const accepted = new Int32Array(ACCEPT_BATCH);
  const open = new Set<number>();
  const check = (rc: number, syscall: string, fd?: number): number => {
    if (rc < 0) throw errnoError(rc, syscall, fd);
    return rc;
  };
  check(poller.add(listener.fd, constants.EPOLLIN, 0), 'epoll_ctl', listener.fd);

  const drop = (fd: number): void => {
    poller.remove(fd);
    poller.closeFd(fd);
    open.delete(fd);
  };
  const echo = (fd: number): void => {
    const count = poller.read(fd, buffer, 0, READ_SIZE);
    if (count === ERRNO_EAGAIN) return; // spurious readiness
    if (count <= 0) return drop(fd); // end of stream or error
    // A blocking peer that does not read makes this write short; an echo
    // demo drops such a peer instead of queueing (the reactor queues).
    if (poller.write(fd, buffer, 0, count) !== count) drop(fd);
  };

  poller.start((count) => {
    for (let index = 0; index < count; index += 1) {
      const fd = events[index * 3]!;
      if (fd !== listener.fd) {
        if (open.has(fd)) echo(fd);
        continue;
      }
      const taken = poller.accept(listener.fd, accepted);
      for (let slot = 0; slot < taken; slot += 1) {
        const client = accepted[slot]!;
        open.add(client);
        check(poller.add(client, constants.EPOLLIN | constants.EPOLLRDHUP, 0), 'epoll_ctl', client);
      }
    }
  });

  return {
    listener,
    close(): void {
      for (const fd of open) drop(fd);
      poller.close();
      binding.close(listener.fd);
    },
  };
}
