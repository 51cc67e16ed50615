/**
 * The equivalents of the Autobahn|Testsuite's sections 12 and 13
 * (permessage-deflate), over real sockets, since the suite itself cannot
 * run here (see autobahn-cases.test.ts). The suite's cases are generated
 * (case12_x_x.py): for each data set and each of 18 (payload size,
 * auto-fragment size) pairs, messages cut in turn from the data set are
 * sent compressed, one at a time, each echo checked for type, length and
 * content, then a clean close (1000 both ways).
 *
 * - Section 12: five data sets under the default offer. The suite's files
 *   (Faust from Gutenberg, a 512x512 bitmap, a PDF, JSON, HTML) are not
 *   here; each is stood in for by data of its kind made from a seeded
 *   generator: human text (sent binary, as the suite does), a grey-level
 *   bitmap, PDF-like objects around incompressible streams, JSON records
 *   and HTML markup (these two as text).
 * - Section 13: the JSON data under the suite's seven offers (no context
 *   takeover asked of the server or not, server_max_window_bits 8, 15 or
 *   none, and one list of three offers).
 *
 * Each case runs against zepoll's echo server with DeflatePeer
 * (deflate-peer.ts: Node's zlib streams, messages auto-fragmented as the
 * suite does) as the fuzzing client; COUNT messages per case instead of
 * the suite's 1000. The client side (the suite's fuzzing server and its
 * seven ways to accept) is run with zepoll's client against the `ws`
 * server answering each way.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { WebSocketServer as WsServer, type PerMessageDeflateOptions as WsDeflateOptions } from 'ws';
import { Reactor } from '../../packages/reactor/src/reactor.js';
import { connectWebSocket } from '../../packages/reactor/src/ws/client.js';
import { DeflatePeer } from './deflate-peer.js';
import { trackFds } from '../helpers/fds.js';
import { until } from '../helpers/wait.js';
import { ECHO, serve } from '../helpers/ws.js';

/** Messages per case (the suite sends 1000): enough to carry windows across messages, short enough for two shared cores. */
const COUNT = 6;
/** The suite's (payload size, auto-fragment size) pairs, in its order. */
const MSG_SIZES: ReadonlyArray<readonly [number, number]> = [
  [16, 0], [64, 0], [256, 0], [1024, 0], [4096, 0], [8192, 0], [16384, 0], [32768, 0], [65536, 0], [131072, 0],
  [8192, 256], [16384, 256], [32768, 256], [65536, 256], [131072, 256], [131072, 1024], [131072, 4096], [131072, 32768],
];
const DATA_SIZE = 200 * 1024;

/** mulberry32: a small seeded generator, so every run sends the same bytes. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

const WORDS = ['Habe', 'nun', 'ach', 'Philosophie', 'Juristerei', 'und', 'Medizin', 'leider', 'auch', 'Theologie', 'durchaus', 'studiert', 'mit', 'heißem', 'Bemühn', 'da', 'steh', 'ich', 'armer', 'Tor', 'bin', 'so', 'klug', 'als', 'wie', 'zuvor', 'Größe', 'Übermut'];

/** A data set: its bytes, sent as binary or text; `shrinks`: every slice of 1 KiB or more compresses (text does, the bitmap and the PDF's random streams need not). */
interface DataSet {
  readonly name: string;
  readonly bytes: Buffer;
  readonly binary: boolean;
  readonly shrinks: boolean;
}

/** The stand-ins for the suite's data sets (see above). */
function dataSets(): DataSet[] {
  const next = random(12);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  let text = '';
  while (text.length < DATA_SIZE) text += `${Array.from({ length: 8 + Math.floor(next() * 8) }, () => pick(WORDS)).join(' ')}.\n`;
  const bitmap = Buffer.alloc(DATA_SIZE);
  for (let index = 0; index < bitmap.length; index += 1) bitmap[index] = (Math.floor(128 + 100 * Math.sin((index % 512) / 40) * Math.cos(index / 512 / 30)) + Math.floor(next() * 12)) & 0xff;
  const pdf: Buffer[] = [];
  for (let object = 1; Buffer.concat(pdf).length < DATA_SIZE; object += 1) {
    pdf.push(Buffer.from(`${object} 0 obj\n<< /Length 512 /Filter /FlateDecode >>\nstream\n`));
    pdf.push(Buffer.from(Array.from({ length: 512 }, () => Math.floor(next() * 256))));
    pdf.push(Buffer.from('\nendstream\nendobj\n'));
  }
  let json = '[';
  for (let index = 0; json.length < DATA_SIZE; index += 1) json += `${JSON.stringify({ id: index, name: pick(['ada', 'grace', 'edsger', 'barbara']), score: Math.floor(next() * 1000), tags: [pick(['a', 'b', 'c']), pick(['x', 'y'])] })},`;
  let html = '<html><body>';
  for (let index = 0; html.length < DATA_SIZE; index += 1) html += `<div class="row-${index % 7}"><a href="/item/${index}">${pick(['Habe', 'nun', 'ach', 'Tor'])}</a><span>${Math.floor(next() * 100)}</span></div>\n`;
  return [
    { name: 'human text (Faust, binary)', bytes: Buffer.from(text).subarray(0, DATA_SIZE), binary: true, shrinks: true },
    { name: 'bitmap', bytes: bitmap, binary: true, shrinks: false },
    { name: 'PDF-like', bytes: Buffer.concat(pdf).subarray(0, DATA_SIZE), binary: true, shrinks: false },
    { name: 'JSON', bytes: Buffer.from(json).subarray(0, DATA_SIZE), binary: false, shrinks: true },
    { name: 'HTML', bytes: Buffer.from(html).subarray(0, DATA_SIZE), binary: false, shrinks: true },
  ];
}

/** The suite's sendOne(): the next `size` bytes of the data set, wrapping around. */
function slice(bytes: Buffer, from: number, size: number): Buffer {
  const to = (from + size) % bytes.length;
  return to > from ? bytes.subarray(from, to) : Buffer.concat([bytes.subarray(from), bytes.subarray(0, to)]);
}

const sha1 = (bytes: Buffer): string => createHash('sha1').update(bytes).digest('hex');

/** One case: COUNT messages echoed one at a time; the failures found, as text (empty when none). */
async function runCase(port: number, offers: readonly string[], data: DataSet, size: number, fragment: number): Promise<string[]> {
  const peer = await DeflatePeer.connect(port, offers);
  const failures: string[] = [];
  if (peer.terms === null) failures.push('the offer was declined');
  let pointer = 0;
  for (let count = 0; count < COUNT && failures.length === 0; count += 1) {
    const message = slice(data.bytes, pointer, size);
    pointer = (pointer + size) % data.bytes.length;
    await peer.send(message, data.binary, fragment);
    const echo = await peer.next();
    if (echo === null) failures.push(`message ${count}: the connection ended`);
    else if (echo.binary !== data.binary || echo.data.length !== size || sha1(echo.data) !== sha1(message)) failures.push(`message ${count}: binary ${echo.binary}, ${echo.data.length} bytes, sha1 ${sha1(echo.data)}`);
    else if (data.shrinks && peer.terms !== null && peer.terms.serverMaxWindowBits >= 9 && size >= 1024 && !echo.compressed) failures.push(`message ${count}: echoed uncompressed`);
  }
  const code = await peer.close(1000);
  if (code !== 1000) failures.push(`closed with ${code}`);
  return failures;
}

const DEFAULT_OFFER = 'permessage-deflate; client_no_context_takeover; client_max_window_bits';

t.test('section 12: five kinds of data under the default offer, 18 sizes each', async (t) => {
  const fds = trackFds();
  const served = serve(ECHO, { perMessageDeflate: { threshold: 0 }, maxBackpressure: 8 * 1024 * 1024 });
  const sets = dataSets();
  for (const [set, data] of sets.entries()) {
    for (const [index, [size, fragment]] of MSG_SIZES.entries()) {
      const failures = await runCase(served.wss.server.port, [DEFAULT_OFFER], data, size, fragment);
      t.same(failures, [], `12.${set + 1}.${index + 1}: ${data.name}, ${COUNT} messages of ${size} bytes, auto-fragment ${fragment}`);
    }
  }
  await served.close();
  await fds.assertNoneSettled(t);
});

/** The suite's client offers for section 13: (ask the server for no context takeover, server_max_window_bits or 0). */
const OFFERS_13: ReadonlyArray<ReadonlyArray<readonly [boolean, number]>> = [[[false, 0]], [[true, 0]], [[false, 8]], [[false, 15]], [[true, 8]], [[true, 15]], [[true, 8], [true, 0], [false, 0]]];
const offerOf = ([noContext, bits]: readonly [boolean, number]): string => `${DEFAULT_OFFER}${noContext ? '; server_no_context_takeover' : ''}${bits === 0 ? '' : `; server_max_window_bits=${bits}`}`;

t.test("section 13: the JSON data under the suite's seven offers, 18 sizes each", async (t) => {
  const fds = trackFds();
  const served = serve(ECHO, { perMessageDeflate: { threshold: 0 }, maxBackpressure: 8 * 1024 * 1024 });
  const json = dataSets()[3]!;
  for (const [set, offers] of OFFERS_13.entries()) {
    for (const [index, [size, fragment]] of MSG_SIZES.entries()) {
      const failures = await runCase(served.wss.server.port, offers.map(offerOf), json, size, fragment);
      t.same(failures, [], `13.${set + 1}.${index + 1}: offers ${JSON.stringify(offers)}, ${COUNT} messages of ${size} bytes, auto-fragment ${fragment}`);
    }
  }
  await served.close();
  await fds.assertNoneSettled(t);
});

/** The suite's seven ways for its server to accept a client's offer, as `ws` server options. */
const ACCEPTS_13: ReadonlyArray<readonly [string, WsDeflateOptions]> = [
  ['accept', {}],
  ['client_no_context_takeover', { clientNoContextTakeover: true }],
  ['client_max_window_bits=8', { clientMaxWindowBits: 8 }],
  ['client_max_window_bits=15', { clientMaxWindowBits: 15 }],
  ['both, 8 bits', { clientNoContextTakeover: true, clientMaxWindowBits: 8 }],
  ['both, 15 bits', { clientNoContextTakeover: true, clientMaxWindowBits: 15 }],
  ['the server without context takeover, 9 bits', { serverNoContextTakeover: true, serverMaxWindowBits: 9 }],
];

t.test("section 13, client side: zepoll's client against the ws server accepting each way, the unfragmented sizes", async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const json = dataSets()[3]!;
  for (const [name, accept] of ACCEPTS_13) {
    const server = await new Promise<WsServer>((resolve) => {
      const created: WsServer = new WsServer({ host: '127.0.0.1', port: 0, perMessageDeflate: { threshold: 0, ...accept }, maxPayload: 0 }, (): void => resolve(created));
    });
    server.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })));
    const port = (server.address() as { port: number }).port;
    for (const [size] of MSG_SIZES.filter(([, fragment]) => fragment === 0)) {
      const received: Buffer[] = [];
      const socket = await connectWebSocket(reactor, `ws://127.0.0.1:${port}/`, { message: (_ws, data) => void received.push(Buffer.from(data)) }, { perMessageDeflate: { threshold: 0 }, maxBackpressure: 8 * 1024 * 1024 });
      const sent: Buffer[] = [];
      for (let count = 0, pointer = 0; count < COUNT; count += 1, pointer = (pointer + size) % json.bytes.length) {
        const message = slice(json.bytes, pointer, size);
        sent.push(message);
        socket.send(message, false);
      }
      await until(() => received.length === COUNT, `${COUNT} echoes of ${size} bytes`);
      t.ok(
        sent.every((message, index) => received[index]!.equals(message)),
        `${name}: ${COUNT} messages of ${size} bytes echoed (${socket.extensions})`,
      );
      socket.end(1000);
      await until(() => !socket.isOpen && server.clients.size === 0, 'the close');
    }
    await new Promise((resolve) => server.close(resolve));
  }
  reactor.close();
  await fds.assertNoneSettled(t);
});
