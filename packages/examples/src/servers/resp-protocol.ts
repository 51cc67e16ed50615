/**
 * RESP2, the Redis wire protocol: requests (arrays of bulk strings, or an
 * inline line of words) parsed incrementally, and reply encoders.
 */
const CR = 13;
const LF = 10;
/** Bounds on one request, as Redis' own (proto-max-bulk-len is larger; this example keeps memory small). */
export const ARGUMENTS_MAX = 1024 * 1024;
export const BULK_SIZE_MAX = 64 * 1024 * 1024;
export const INLINE_SIZE_MAX = 64 * 1024;

export class ProtocolError extends Error {}

/** Accumulates bytes; `next()` returns one complete command's arguments, or null. */
export class RespParser {
  private buffer: Buffer;
  private offset: number;

  constructor() {
    this.buffer = Buffer.alloc(0);
    this.offset = 0;
  }

  push(data: Uint8Array): void {
    const rest = this.buffer.subarray(this.offset);
    this.buffer = rest.length === 0 ? Buffer.from(data) : Buffer.concat([rest, data]); // copies: the reactor reuses its view
    this.offset = 0;
  }

  next(): Buffer[] | null {
    const buffer = this.buffer;
    if (this.offset >= buffer.length) return null;
    if (buffer[this.offset] !== 0x2a /* '*' */) return this.inline();
    const header = this.line(this.offset);
    if (header === null) return null;
    const count = this.integer(this.offset + 1, header.end, ARGUMENTS_MAX);
    let position = header.next;
    const args: Buffer[] = [];
    for (let index = 0; index < count; index += 1) {
      if (position >= buffer.length) return null;
      if (buffer[position] !== 0x24 /* '$' */) throw new ProtocolError(`expected '$', got '${String.fromCharCode(buffer[position]!)}'`);
      const bulk = this.line(position);
      if (bulk === null) return null;
      const size = this.integer(position + 1, bulk.end, BULK_SIZE_MAX);
      if (bulk.next + size + 2 > buffer.length) return null;
      if (buffer[bulk.next + size] !== CR || buffer[bulk.next + size + 1] !== LF) throw new ProtocolError('bulk string not followed by CRLF');
      args.push(buffer.subarray(bulk.next, bulk.next + size));
      position = bulk.next + size + 2;
    }
    this.offset = position;
    return args;
  }

  private inline(): Buffer[] | null {
    const newline = this.buffer.indexOf(LF, this.offset);
    if (newline === -1) {
      if (this.buffer.length - this.offset > INLINE_SIZE_MAX) throw new ProtocolError('too big inline request');
      return null;
    }
    const end = newline > this.offset && this.buffer[newline - 1] === CR ? newline - 1 : newline;
    const text = this.buffer.toString('latin1', this.offset, end);
    this.offset = newline + 1;
    const words = text.split(/[ \t]+/).filter((word) => word.length > 0);
    return words.length === 0 ? this.next() : words.map((word) => Buffer.from(word, 'latin1'));
  }

  private line(start: number): { end: number; next: number } | null {
    const newline = this.buffer.indexOf(LF, start);
    if (newline === -1) {
      if (this.buffer.length - start > INLINE_SIZE_MAX) throw new ProtocolError('too big count line');
      return null;
    }
    if (newline === start || this.buffer[newline - 1] !== CR) throw new ProtocolError('line not ended by CRLF');
    return { end: newline - 1, next: newline + 1 };
  }

  private integer(start: number, end: number, max: number): number {
    const text = this.buffer.toString('latin1', start, end);
    if (!/^\d{1,10}$/.test(text) || Number(text) > max) throw new ProtocolError(`invalid length '${text}'`);
    return Number(text);
  }
}

export const OK = Buffer.from('+OK\r\n');
export const PONG = Buffer.from('+PONG\r\n');
export const NULL_BULK = Buffer.from('$-1\r\n');
export const EMPTY_ARRAY = Buffer.from('*0\r\n');

export function error(text: string): Buffer {
  return Buffer.from(`-${text.replace(/[\r\n]/g, ' ')}\r\n`);
}

export function integerReply(value: number): Buffer {
  return Buffer.from(`:${value}\r\n`);
}

export function bulk(value: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`$${value.byteLength}\r\n`), value, Buffer.from('\r\n')]);
}

export function array(items: ReadonlyArray<Uint8Array | null>): Buffer {
  return Buffer.concat([Buffer.from(`*${items.length}\r\n`), ...items.map((item) => (item === null ? NULL_BULK : bulk(item)))]);
}
