/**
 * The zero-copy rows' client, run pinned to the client CPU by the bench:
 * `node zerocopy-client.js PORT LANES SECONDS` downloads from PORT on LANES
 * connections, again and again, for SECONDS (each download runs to its
 * end), reading and discarding. Prints the bytes received and the elapsed
 * seconds as one JSON line.
 */
import { connect } from 'node:net';

const [portText = '0', lanesText = '1', secondsText = '1'] = process.argv.slice(2);
const port = Number(portText);
const started = performance.now();
const deadline = started + Number(secondsText) * 1000;
let bytes = 0;

const lane = (): Promise<void> =>
  new Promise<void>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('data', (part: Buffer) => (bytes += part.length));
    socket.on('error', reject);
    socket.on('end', () => resolve());
  }).then(() => (performance.now() < deadline ? lane() : undefined));

await Promise.all(Array.from({ length: Number(lanesText) }, lane));
process.stdout.write(`${JSON.stringify({ bytes, seconds: (performance.now() - started) / 1000 })}\n`);
