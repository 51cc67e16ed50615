/** TCP echo: every byte read is written back (zero copy: the pooled view is queued as is). */
import { Server, type Reactor, type ServerOptions } from 'zepoll';

export function startEcho(reactor: Reactor, options: ServerOptions): Server {
  return new Server(reactor, { onData: (connection, data) => void connection.write(data) }, options);
}
