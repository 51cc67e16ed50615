/**
 * TCP echo: every byte read is written back (zero copy: the pooled view is
 * queued as is). forward() pauses reading while the echoes wait in the
 * queue above its high-water mark, so a client that sends faster than it
 * reads is slowed down, never disconnected at the queue cap.
 */
import { Server, forward, type Reactor, type ServerOptions } from 'zepoll';

export function startEcho(reactor: Reactor, options: ServerOptions): Server {
  return new Server(reactor, { onData: (connection, data) => void forward(connection, data) }, options);
}
