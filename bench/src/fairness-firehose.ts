/**
 * One connection streaming as fast as it can: writes 256 KiB blocks of 'F'
 * to 127.0.0.1:PORT for SECONDS (the echo server reads and drops them).
 * `node fairness-firehose.js PORT SECONDS`; prints the bytes sent.
 */
import { connect } from 'node:net';

const [portText = '0', secondsText = '0'] = process.argv.slice(2);
/** 'F': the echo server drops a stream that starts with it (see echo-server.ts). */
const BLOCK = Buffer.alloc(256 * 1024, 0x46);
const socket = connect(Number(portText), '127.0.0.1');
let sent = 0;
const deadline = performance.now() + Number(secondsText) * 1000;
const pump = (): void => {
  while (performance.now() < deadline) {
    sent += BLOCK.length;
    if (!socket.write(BLOCK)) return void socket.once('drain', pump);
  }
  process.stdout.write(`${sent}\n`);
  socket.destroy();
};
socket.on('data', () => {});
socket.on('error', () => {});
socket.on('connect', pump);
