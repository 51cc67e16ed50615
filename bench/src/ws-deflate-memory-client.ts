/**
 * The client side of ws-deflate-memory.ts, in its own process: opens COUNT
 * `ws` package clients to ws://127.0.0.1:PORT, at most WINDOW connecting at
 * once, with permessage-deflate offered as OFFER says ('none': no offer),
 * each sending one compressible 2 KiB text message and reading its echo
 * (so both directions have compressed once, and hold their windows if
 * they keep any). Tells its parent `{ ready: COUNT }` over IPC once every
 * echo is in, then holds the sockets until its parent goes away.
 *
 *   (forked by ws-deflate-memory.js) ws-deflate-memory-client.js PORT COUNT OFFER
 */
import WebSocket from 'ws';

const WINDOW = 128;
const MESSAGE = JSON.stringify({ text: 'a chat message that repeats itself, '.repeat(56) }).slice(0, 2048);

const [portText = '0', countText = '0', offer = 'default'] = process.argv.slice(2);
const count = Number(countText);
const sockets: WebSocket[] = [];
let started = 0;
let done = 0;

function fail(error: Error): void {
  process.stderr.write(`ws-deflate-memory-client: ${error.message}\n`);
  process.exit(1);
}

function open(): void {
  started += 1;
  // threshold 0: the client compresses its one message whatever the size.
  const perMessageDeflate = offer === 'none' ? false : { threshold: 0 };
  const socket = new WebSocket(`ws://127.0.0.1:${portText}/`, { perMessageDeflate });
  socket.on('open', () => socket.send(MESSAGE));
  socket.once('message', (data: Buffer) => {
    if (data.toString() !== MESSAGE) fail(new Error('a wrong echo'));
    done += 1;
    if (done === count) process.send!({ ready: count });
    else if (started < count) open();
  });
  socket.on('error', fail);
  socket.on('close', () => fail(new Error('the server closed a socket')));
  sockets.push(socket);
}

for (let index = 0; index < Math.min(WINDOW, count); index += 1) open();
process.on('disconnect', () => process.exit(0));
