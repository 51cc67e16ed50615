/**
 * The zero-copy experiment's servers. `node zerocopy-server.js ROLE ...`:
 *
 *   file sendfile PATH   every connection gets the whole file by sendfile, then the end
 *   file copy PATH       the same, read into memory and written from JavaScript
 *   proxy splice PORT    a TCP proxy to 127.0.0.1:PORT relaying with splice
 *   proxy copy PORT      the same, copying each read into the other connection's queue
 *
 * A mode ending in -uring runs on the io_uring backend (relay() splices there too, once a side's armed receive is done).
 *
 * Prints "port N"; exits on SIGTERM.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { connect, Reactor, relay, Server, type Connection } from 'zepoll';

const [role = '', given = '', target = ''] = process.argv.slice(2);
const uring = given.endsWith('-uring');
const mode = given.replace(/-uring$/, '');
const CHUNK_SIZE = 256 * 1024;
const reactor = new Reactor(uring ? { backend: 'io_uring' } : { mode: 'et' });
let server: Server;

if (role === 'file') {
  const fd = openSync(target, 'r');
  const size = fstatSync(fd).size;
  const sendCopy = (connection: Connection, offset: number): void => {
    // Read a chunk into memory and queue it, until the queue says wait.
    while (offset < size) {
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK_SIZE, size - offset));
      const got = readSync(fd, chunk, 0, chunk.length, offset);
      offset += got;
      if (!connection.write(chunk)) {
        connection.context = offset;
        return;
      }
    }
    connection.end();
  };
  server = new Server(reactor, {
    onOpen: (connection) => {
      if (mode === 'sendfile') void connection.sendFile(fd, 0, size).then(() => connection.end(), () => {});
      else sendCopy(connection, 0);
    },
    onDrain: (connection) => {
      if (mode === 'copy') sendCopy(connection, connection.context as number);
    },
    onError: () => {},
  }, { highWaterMark: 1024 * 1024 });
  process.once('SIGTERM', () => {
    closeSync(fd);
    process.exit(0);
  });
} else if (role === 'proxy') {
  const upstreamPort = Number(target);
  server = new Server(reactor, {
    onOpen: (client) => {
      client.pause();
      void connect(reactor, {}, { port: upstreamPort }).then((upstream) => {
        if (mode === 'splice') {
          relay(client, upstream);
          return;
        }
        // The JavaScript copy: every byte read from one side is queued on the other.
        client.handler = { onData: (_c, data) => void upstream.write(data), onEnd: () => upstream.end(), onClose: () => upstream.destroy(), onError: () => {} };
        upstream.handler = { onData: (_c, data) => void client.write(data), onEnd: () => client.end(), onClose: () => client.destroy(), onError: () => {} };
        client.resume();
      }, () => client.destroy());
    },
    onError: () => {},
  });
  process.once('SIGTERM', () => process.exit(0));
} else {
  process.stderr.write('usage: zerocopy-server file sendfile|copy PATH | proxy splice|copy PORT\n');
  process.exit(2);
}
process.stdout.write(`port ${server.port}\n`);
