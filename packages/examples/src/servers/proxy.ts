/**
 * TCP proxy: each client connection gets an upstream connection (from the
 * outbound pool) and the two are relayed with splice, so proxied bytes
 * never enter JavaScript. Upstream down: the client is closed, the proxy
 * keeps running.
 */
import { ConnectionPool, relay, Server, type Reactor, type ServerOptions } from 'zepoll';

export function startProxy(reactor: Reactor, options: ServerOptions, upstream: { host: string; port: number }): { server: Server; stop: () => void } {
  const pool = new ConnectionPool(reactor, { host: upstream.host, port: upstream.port, timeoutMs: 5000 });
  const server = new Server(
    reactor,
    {
      onOpen: (client) => {
        client.pause(); // nothing is read until the relay takes over
        pool.get({}).then(
          (server) => {
            if (client.isOpen) relay(client, server);
            else server.destroy();
          },
          () => client.destroy(), // upstream down: this client only
        );
      },
    },
    options,
  );
  return { server, stop: () => pool.close() };
}
