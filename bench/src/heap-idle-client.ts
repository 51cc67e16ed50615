/**
 * The client side of heap-idle.ts, in its own process (the server's fds and
 * the clients' together would pass the per-process limit): opens COUNT TCP
 * connections to 127.0.0.1:PORT, at most WINDOW connecting at once, and
 * with REQUESTS = 1 sends each one `GET /` and reads its whole response
 * (the connection then stays, idle, as a keep-alive client's would). Tells
 * its parent `{ ready: COUNT }` over IPC once every connection is there,
 * then holds them until its parent goes away.
 *
 *   (forked by heap-idle.js) heap-idle-client.js PORT COUNT REQUESTS
 */
import { connect, type Socket } from 'node:net';

const WINDOW = 256;
const REQUEST = Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
const HEAD_END = '\r\n\r\n';

const [portText = '0', countText = '0', requestsText = '0'] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const withRequest = requestsText === '1';
const sockets: Socket[] = [];
let started = 0;
let done = 0;

function fail(error: Error): void {
  process.stderr.write(`heap-idle-client: ${error.message}\n`);
  process.exit(1);
}

/** The socket is there (and, with a request, its response is read whole): the next one starts. */
function finished(): void {
  done += 1;
  if (done === count) {
    process.send!({ ready: count });
    return;
  }
  if (started < count) open();
}

/** Reads one response (head and Content-Length body), then leaves the socket alone. */
function readResponse(socket: Socket): void {
  let text = '';
  const onData = (part: Buffer): void => {
    text += part.toString('latin1');
    const headEnd = text.indexOf(HEAD_END);
    if (headEnd < 0) return;
    const length = /content-length: *(\d+)/i.exec(text.slice(0, headEnd));
    if (length === null) return fail(new Error(`a response without Content-Length: ${JSON.stringify(text)}`));
    if (text.length < headEnd + HEAD_END.length + Number(length[1])) return;
    socket.off('data', onData);
    finished();
  };
  socket.on('data', onData);
  socket.write(REQUEST);
}

function open(): void {
  started += 1;
  const socket = connect({ port, host: '127.0.0.1' }, () => {
    if (withRequest) readResponse(socket);
    else finished();
  });
  socket.on('error', fail);
  socket.on('close', () => fail(new Error('the server closed a connection')));
  sockets.push(socket);
}

for (let index = 0; index < Math.min(WINDOW, count); index += 1) open();
// The parent going away (its measurement done, or it failed) ends this process.
process.on('disconnect', () => process.exit(0));
