/**
 * fast-check generators for the HTTP fuzz tests: valid requests built from
 * a model (so the parse can be checked against what was generated, not
 * only against itself), wire bytes for a model, and mutations of those
 * bytes that a strict parser must answer with a status or accept.
 */
import fc from 'fast-check';

export interface RequestModel {
  readonly method: string;
  readonly target: string;
  readonly versionMinor: 0 | 1;
  /** Fields as sent: name (any case), value (may carry surrounding whitespace). */
  readonly fields: ReadonlyArray<readonly [string, string]>;
  readonly connection: 'close' | 'keep-alive' | null;
  readonly body: Uint8Array;
  /** How the body is framed; chunk sizes sum to body.length. */
  readonly framing: 'length' | 'chunked' | 'none';
  readonly chunks: readonly number[];
  readonly chunkExtension: string;
  readonly trailers: ReadonlyArray<readonly [string, string]>;
}

const range = (from: number, to: number): string => String.fromCharCode(...Array.from({ length: to - from + 1 }, (_, index) => from + index));
const TOKEN_CHARS = `!#$%&'*+-.^_\`|~0123456789${range(65, 90)}${range(97, 122)}`;
/** RFC 3986 pchar (no pct-encoding), "/" and "?": the bytes of an origin-form target (RFC 9112 3.2.1). */
const TARGET_CHARS = `${range(65, 90)}${range(97, 122)}0123456789-._~!$&'()*+,;=:@/?`;
/** Inside a value: visible bytes, obs-text, and space or tab between them. */
const VALUE_CHARS = `${range(0x21, 0x7e)}${range(0x80, 0xff)} \t`;
/** Names the model sets itself; random fields never use them. */
const RESERVED = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'expect']);

const chars = (alphabet: string, minLength: number, maxLength: number): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(...alphabet), minLength, maxLength });
const token = (maxLength: number): fc.Arbitrary<string> => chars(TOKEN_CHARS, 1, maxLength);
const whitespace = chars(' \t', 0, 2);
/** A field value with optional surrounding whitespace (which the parser must trim). */
const value = fc.tuple(whitespace, chars(VALUE_CHARS, 0, 40), whitespace).map(([before, inner, after]) => [before, inner.replace(/^[ \t]+|[ \t]+$/g, ''), after] as const);
const field = fc.tuple(token(20), value).filter(([name]) => !RESERVED.has(name.toLowerCase()));

export const requestModel: fc.Arbitrary<RequestModel> = fc
  .record({
    method: fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'), token(12)),
    target: fc.oneof(fc.constant('/'), chars(TARGET_CHARS, 0, 60).map((path) => `/${path}`), fc.constant('/%2Fencoded%20path?q=%7E'), fc.constant('*')),
    versionMinor: fc.constantFrom<0 | 1>(0, 1, 1),
    fields: fc.array(field, { maxLength: 8 }),
    connection: fc.constantFrom<'close' | 'keep-alive' | null>(null, null, null, 'close', 'keep-alive'),
    body: fc.uint8Array({ maxLength: 600 }),
    chunked: fc.boolean(),
    cuts: fc.array(fc.integer({ min: 1, max: 599 }), { maxLength: 5 }),
    chunkExtension: fc.constantFrom('', ';a=b', ' ;x', ';name="quoted value"'),
    trailers: fc.array(field, { maxLength: 2 }),
  })
  .map(({ method: drawn, target, versionMinor, fields, connection, body, chunked, cuts, chunkExtension, trailers }) => {
    // Asterisk-form is OPTIONS's alone (RFC 9112 3.2.4); CONNECT is refused, so a valid request never draws it.
    const method = target === '*' ? 'OPTIONS' : drawn === 'CONNECT' ? 'GET' : drawn;
    const framing: RequestModel['framing'] = body.length === 0 ? (chunked && versionMinor === 1 ? 'chunked' : 'none') : chunked && versionMinor === 1 ? 'chunked' : 'length';
    const points = [...new Set(cuts.filter((cut) => cut < body.length))].sort((a, b) => a - b);
    const chunks = framing === 'chunked' ? [...points, body.length].map((end, index, all) => end - (index === 0 ? 0 : all[index - 1]!)).filter((size) => size > 0) : [];
    return { method, target, versionMinor, fields: fields.map(([name, [before, inner, after]]) => [name, `${before}${inner}${after}`] as const), connection, body, framing, chunks, chunkExtension, trailers: trailers.map(([name, [, inner]]) => [name, inner] as const) };
  });

/** The bytes of `model` on the wire. */
export function encode(model: RequestModel): Buffer {
  let head = `${model.method} ${model.target} HTTP/1.${model.versionMinor}\r\n`;
  if (model.versionMinor === 1) head += 'Host: fuzz.test\r\n';
  for (const [name, text] of model.fields) head += `${name}:${text}\r\n`;
  if (model.connection !== null) head += `Connection: ${model.connection}\r\n`;
  if (model.framing === 'length') head += `Content-Length: ${model.body.length}\r\n`;
  if (model.framing === 'chunked') head += 'Transfer-Encoding: chunked\r\n';
  const parts = [Buffer.from(`${head}\r\n`, 'latin1')];
  if (model.framing === 'length') parts.push(Buffer.from(model.body));
  if (model.framing === 'chunked') {
    let offset = 0;
    for (const [index, size] of model.chunks.entries()) {
      const hex = size.toString(16);
      parts.push(Buffer.from(`${index % 2 === 0 ? hex : hex.toUpperCase()}${model.chunkExtension}\r\n`, 'latin1'), Buffer.from(model.body.subarray(offset, offset + size)), Buffer.from('\r\n'));
      offset += size;
    }
    parts.push(Buffer.from(`0\r\n${model.trailers.map(([name, text]) => `${name}: ${text}\r\n`).join('')}\r\n`, 'latin1'));
  }
  return Buffer.concat(parts);
}

/** What the parser must hand out for `model`. */
export function expected(model: RequestModel): { method: string; target: string; version: number; headers: string[]; body: string; keepAlive: boolean } {
  const headers: string[] = [];
  if (model.versionMinor === 1) headers.push('host', 'fuzz.test');
  for (const [name, text] of model.fields) headers.push(name.toLowerCase(), text.replace(/^[ \t]+|[ \t]+$/g, ''));
  if (model.connection !== null) headers.push('connection', model.connection);
  if (model.framing === 'length') headers.push('content-length', String(model.body.length));
  if (model.framing === 'chunked') headers.push('transfer-encoding', 'chunked');
  const keepAlive = model.versionMinor === 1 ? model.connection !== 'close' : model.connection === 'keep-alive';
  return { method: model.method, target: model.target, version: model.versionMinor, headers, body: Buffer.from(model.body).toString('latin1'), keepAlive };
}

/** Cut points for splitting `length` bytes into packets. */
export const cutsOf = (length: number): fc.Arbitrary<number[]> => fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, length - 1) }), { maxLength: 12 }).map((cuts) => cuts.filter((cut) => cut < length).sort((a, b) => a - b));

export function split(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    pieces.push(bytes.subarray(start, cut));
    start = cut;
  }
  return pieces;
}

/** Fragments a strict parser must reject (or, placed harmlessly, accept). */
const HOSTILE = [
  '\n', '\r', '\0', ' ', '\t', ':', '\x7f', '\r\n', '\r\n\r\n', ' folded\r\n',
  'Content-Length: 5\r\n', 'Content-Length: 99999999999\r\n', 'Content-Length: -1\r\n', 'Content-Length: 0x10\r\n',
  'Transfer-Encoding: chunked\r\n', 'Transfer-Encoding: gzip, chunked\r\n', 'Transfer-Encoding: identity\r\n',
  'Host: second\r\n', 'Expect: 100-continue\r\n', 'Expect: nothing\r\n', 'HTTP/2.0', 'HTTP/1.1 ', 'X:\x01\r\n',
  `X-Big: ${'b'.repeat(17 * 1024)}\r\n`, `/${'t'.repeat(9 * 1024)}`, Array.from({ length: 101 }, (_, index) => `F${index}: v\r\n`).join(''),
  'ffffffff\r\n', '0\r\n\r\n',
];

type Mutation = { kind: 'replace' | 'insert' | 'delete' | 'hostile' | 'line' | 'version'; at: number; byte: number; length: number; hostile: number };

const mutation: fc.Arbitrary<Mutation> = fc.record({
  // 'line': a hostile fragment right after a line's CRLF, where a header field starts; anywhere else most
  // fragments only break the line they land in (a huge Content-Length would seldom be read as one: 413 went unseen).
  // 'version': the request line's HTTP-version rewritten to another well-formed one (505 for majors other than 1).
  kind: fc.constantFrom<Mutation['kind']>('replace', 'insert', 'delete', 'hostile', 'hostile', 'line', 'version'),
  at: fc.nat(),
  byte: fc.integer({ min: 0, max: 255 }),
  length: fc.integer({ min: 1, max: 8 }),
  hostile: fc.nat({ max: HOSTILE.length - 1 }),
});

function mutate(bytes: Buffer, mutations: readonly Mutation[]): Buffer {
  let result = bytes;
  for (const change of mutations) {
    const at = result.length === 0 ? 0 : change.at % (result.length + 1);
    switch (change.kind) {
      case 'replace':
        result = Buffer.concat([result.subarray(0, at), Buffer.from([change.byte]), result.subarray(at + 1)]);
        break;
      case 'insert':
        result = Buffer.concat([result.subarray(0, at), Buffer.alloc(change.length, change.byte), result.subarray(at)]);
        break;
      case 'delete':
        result = Buffer.concat([result.subarray(0, at), result.subarray(at + change.length)]);
        break;
      case 'hostile':
        result = Buffer.concat([result.subarray(0, at), Buffer.from(HOSTILE[change.hostile]!, 'latin1'), result.subarray(at)]);
        break;
      case 'version': {
        const version = result.indexOf('HTTP/1.');
        if (version >= 0) result = Buffer.concat([result.subarray(0, version), Buffer.from(`HTTP/${change.byte % 4}.${change.length % 10}`, 'latin1'), result.subarray(version + 8)]);
        break;
      }
      case 'line': {
        const lineEnd = result.indexOf('\r\n', at);
        const start = lineEnd < 0 ? at : lineEnd + 2;
        result = Buffer.concat([result.subarray(0, start), Buffer.from(HOSTILE[change.hostile]!, 'latin1'), result.subarray(start)]);
        break;
      }
    }
  }
  return result;
}

/** A valid request, mutated one to four times, then perhaps a valid request after it. */
export const mutatedRequest: fc.Arbitrary<Buffer> = fc
  .tuple(requestModel, fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.option(requestModel, { nil: undefined }))
  .map(([model, mutations, next]) => {
    const bytes = mutate(encode(model), mutations);
    return next === undefined ? bytes : Buffer.concat([bytes, encode(next)]);
  });
