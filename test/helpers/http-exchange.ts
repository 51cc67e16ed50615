/** A raw HTTP exchange over Node's net: sends `data`, resolves with everything received once the server closes. */
import net from 'node:net';

export function exchange(port: number, data: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(data));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (part: string) => (text += part));
    socket.on('error', () => {});
    socket.on('close', () => resolve(text));
  });
}
