/** Clients made with Node's own `net`, so the reactor is driven by code nobody here wrote. */
import net from 'node:net';
import { createHash } from 'node:crypto';

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const CLIENT_TIMEOUT_MS = 30_000;

/** Sends `payload`, half-closes, and resolves with everything received until the server's end. */
export function roundTrip(port: number, payload: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const parts: Buffer[] = [];
    socket.setTimeout(CLIENT_TIMEOUT_MS, () => socket.destroy(new Error('client timed out')));
    socket.on('data', (data: Buffer) => parts.push(data));
    socket.on('end', () => resolve(Buffer.concat(parts)));
    socket.on('error', reject);
    socket.end(payload);
  });
}

/** A connected socket (resolves on 'connect'). */
export function connect(port: number, options: { allowHalfOpen?: boolean } = {}): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: options.allowHalfOpen ?? false }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves with the next `size` bytes the socket receives. */
export function receive(socket: net.Socket, size: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let got = 0;
    // A socket that closes first fails the wait at once, never leaves it hanging until tap's timeout.
    const onClose = (): void => {
      socket.off('data', onData);
      reject(new Error(`the socket closed after ${got} of the ${size} bytes awaited`));
    };
    const onData = (data: Buffer): void => {
      parts.push(data);
      got += data.length;
      if (got >= size) {
        socket.off('data', onData);
        socket.off('error', reject);
        socket.off('close', onClose);
        const all = Buffer.concat(parts);
        if (all.length > size) socket.unshift(all.subarray(size));
        resolve(all.subarray(0, size));
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', onClose);
  });
}

export function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) resolve();
    else socket.once('close', () => resolve());
  });
}

/** An echo server made with Node's net (not the code under test), for proxies to talk to. */
export function upstreamEcho(): Promise<net.Server> {
  return new Promise((resolve) => {
    const server = net.createServer((socket) => socket.on('error', () => {}).pipe(socket));
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** How long exchangeOn waits for a complete answer before it destroys the socket and fails. */
const EXCHANGE_TIMEOUT_MS = 10_000;

/**
 * Writes `payload` on an open socket; resolves with what arrives until
 * `complete(text)` says it is all there. Bounded: on a timeout or a close
 * first, the socket is destroyed and the promise rejects.
 */
export function exchangeOn(socket: net.Socket, payload: string, complete: (text: string) => boolean, timeoutMs = EXCHANGE_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const finish = (error: Error | null): void => {
      clearTimeout(timer);
      socket.off('data', onData).off('close', onClose);
      if (error === null) return resolve(text);
      socket.destroy();
      reject(error);
    };
    const onData = (part: Buffer): void => {
      text += part.toString('latin1');
      if (complete(text)) finish(null);
    };
    const onClose = (): void => finish(new Error(`closed before a complete answer: ${JSON.stringify(text)}`));
    const timer = setTimeout(() => finish(new Error(`no complete answer within ${timeoutMs} ms: ${JSON.stringify(text)}`)), timeoutMs);
    socket.on('data', onData).once('close', onClose);
    socket.write(payload);
  });
}
