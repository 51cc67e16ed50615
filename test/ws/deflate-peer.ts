/**
 * A permessage-deflate client written for the tests, the way the
 * Autobahn|Testsuite's fuzzing client behaves in its sections 12 and 13:
 * it offers what a case says, reads the terms from the 101, compresses
 * every message through a zlib stream kept open (reset after each message
 * when it agreed to no context takeover), cuts the compressed payload
 * into frames of the case's auto-fragment size, and inflates the server's
 * messages through a second stream kept open. Nothing of zepoll's codec
 * is used: the frames are built by frames.ts, the compression is Node's
 * zlib streams, as the `ws` package uses them.
 */
import zlib from 'node:zlib';
import { frame } from './frames.js';
import { rawUpgrade, upgradeRequest, type RawClient } from '../helpers/ws.js';

const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** A zlib stream kept open: one write and one flush per message, its output gathered. */
function pump(stream: zlib.DeflateRaw | zlib.InflateRaw, flush: number): (input: Buffer) => Promise<Buffer> {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return (input) =>
    new Promise((resolve) => {
      stream.write(input);
      stream.flush(flush, () => resolve(Buffer.concat(chunks.splice(0))));
    });
}

/** The terms read from the 101's Sec-WebSocket-Extensions (null when the server declined). */
export interface PeerTerms {
  readonly serverNoContextTakeover: boolean;
  readonly clientNoContextTakeover: boolean;
  readonly serverMaxWindowBits: number;
  readonly clientMaxWindowBits: number;
}

/** One message as it came back: its bytes (inflated), whether binary, whether it was compressed. */
export interface PeerMessage {
  readonly data: Buffer;
  readonly binary: boolean;
  readonly compressed: boolean;
}

/** The test's deflate client (see above). */
export class DeflatePeer {
  private cursor = 0;
  private readonly deflate: ((input: Buffer) => Promise<Buffer>) | null;
  private readonly inflate: ((input: Buffer) => Promise<Buffer>) | null;
  private readonly deflater: zlib.DeflateRaw | null;
  private readonly inflater: zlib.InflateRaw | null;

  private constructor(
    readonly raw: RawClient,
    readonly terms: PeerTerms | null,
  ) {
    // zlib deflates a raw stream with 9 bits when asked for 8: a client told 8 sends uncompressed, as zepoll's does.
    this.deflater = terms === null || terms.clientMaxWindowBits < 9 ? null : zlib.createDeflateRaw({ windowBits: terms.clientMaxWindowBits });
    this.inflater = terms === null ? null : zlib.createInflateRaw({ windowBits: terms.serverMaxWindowBits });
    this.deflate = this.deflater === null ? null : pump(this.deflater, zlib.constants.Z_SYNC_FLUSH);
    this.inflate = this.inflater === null ? null : pump(this.inflater, zlib.constants.Z_SYNC_FLUSH);
  }

  /** Connects to `port` offering `offers` (Sec-WebSocket-Extensions values, in order; none: no offer). */
  static async connect(port: number, offers: readonly string[]): Promise<DeflatePeer> {
    const raw = await rawUpgrade(port, upgradeRequest('/', offers.length === 0 ? [] : [`Sec-WebSocket-Extensions: ${offers.join(', ')}`]));
    const header = /\r\nSec-WebSocket-Extensions: ([^\r]*)/i.exec(raw.head)?.[1];
    if (header === undefined) return new DeflatePeer(raw, null);
    const param = (name: string): RegExpExecArray | null => new RegExp(`;\\s*${name}(?:=(\\d+))?`).exec(header);
    return new DeflatePeer(raw, {
      serverNoContextTakeover: param('server_no_context_takeover') !== null,
      clientNoContextTakeover: param('client_no_context_takeover') !== null,
      serverMaxWindowBits: Number(param('server_max_window_bits')?.[1] ?? 15),
      clientMaxWindowBits: Number(param('client_max_window_bits')?.[1] ?? 15),
    });
  }

  /** Sends one message, compressed when agreed, its payload cut into frames of `fragmentSize` bytes (0: one frame). */
  async send(data: Buffer, binary: boolean, fragmentSize: number): Promise<void> {
    let payload = data;
    const compressed = this.deflate !== null;
    if (compressed) {
      payload = (await this.deflate!(data)).subarray(0, -TRAILER.length);
      if (this.terms!.clientNoContextTakeover) this.deflater!.reset();
    }
    const size = fragmentSize === 0 ? Math.max(payload.length, 1) : fragmentSize;
    const frames: Buffer[] = [];
    for (let offset = 0; offset === 0 || offset < payload.length; offset += size) {
      const first = offset === 0;
      const fin = offset + size >= payload.length;
      frames.push(frame({ opcode: first ? (binary ? 0x2 : 0x1) : 0x0, payload: payload.subarray(offset, offset + size), fin, rsv: first && compressed ? 0x40 : 0, mask: (Math.random() * 0x1_0000_0000) >>> 0 }));
    }
    this.raw.socket.write(Buffer.concat(frames));
  }

  /** The next whole message from the server (control frames skipped), or null when the connection ended first. */
  async next(): Promise<PeerMessage | null> {
    const pieces: Buffer[] = [];
    let first: { opcode: number; rsv1: boolean } | null = null;
    for (;;) {
      const header = await this.frame();
      if (header === null) return null;
      if (header.opcode >= 0x8) continue;
      first ??= { opcode: header.opcode, rsv1: header.rsv1 };
      pieces.push(header.payload);
      if (!header.fin) continue;
      let data: Buffer = Buffer.concat(pieces);
      if (first.rsv1) {
        data = await this.inflate!(Buffer.concat([data, TRAILER]));
        if (this.terms!.serverNoContextTakeover) this.inflater!.reset();
      }
      return { data, binary: first.opcode === 0x2, compressed: first.rsv1 };
    }
  }

  /** The close code the server answers a close frame with (-1 when it sent none). */
  async close(code: number): Promise<number> {
    this.raw.socket.write(frame({ opcode: 0x8, payload: Buffer.from([code >>> 8, code & 0xff]) }));
    for (;;) {
      const header = await this.frame();
      if (header === null) return -1;
      if (header.opcode === 0x8) {
        this.deflater?.close();
        this.inflater?.close();
        this.raw.socket.end();
        return header.payload.readUInt16BE(0);
      }
    }
  }

  /** The next frame from the server, waiting for its bytes; null when the connection ended first. */
  private async frame(): Promise<{ fin: boolean; rsv1: boolean; opcode: number; payload: Buffer } | null> {
    for (;;) {
      const bytes = this.raw.received();
      const at = this.cursor;
      if (bytes.length >= at + 2) {
        let length = bytes[at + 1]! & 0x7f;
        let start = at + 2;
        if (length === 126 && bytes.length >= at + 4) [length, start] = [bytes.readUInt16BE(at + 2), at + 4];
        else if (length === 127 && bytes.length >= at + 10) [length, start] = [Number(bytes.readBigUInt64BE(at + 2)), at + 10];
        if (length < 126 || start > at + 2) {
          if (bytes.length >= start + length) {
            this.cursor = start + length;
            return { fin: (bytes[at]! & 0x80) !== 0, rsv1: (bytes[at]! & 0x40) !== 0, opcode: bytes[at]! & 0x0f, payload: bytes.subarray(start, start + length) };
          }
        }
      }
      if (this.raw.socket.destroyed || this.raw.socket.readableEnded) return null;
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.raw.socket.off('data', wake);
          this.raw.socket.off('close', wake);
          setImmediate(resolve); // after rawUpgrade's own listener has gathered the bytes
        };
        this.raw.socket.on('data', wake);
        this.raw.socket.on('close', wake);
      });
    }
  }
}
