/**
 * A request's head as the parser reads it, line by line: the request
 * line's method, target and version, then the field lines as name/value
 * pairs, and at the blank line what they say about framing (framing.ts).
 * A keep-alive client sends the same head request after request, so a
 * string is made only where the bytes differ from the previous request's
 * (bytes.ts); a head that repeats makes none.
 */
import { HeadFacts, readHead } from './framing.js';
import { TARGET_ABSOLUTE, TARGET_PATH_START } from './grammar.js';
import { FIELD_COLON, FIRST_SPACE, FORM, LINE_PARTS, readFieldLine, readRequestLine, SECOND_SPACE, VALUE_END, VALUE_START, VERSION_MINOR } from './lines.js';
import { HttpParseError } from './parse-error.js';
import { latin1, QUESTION, sameLowered } from './bytes.js';

/** Slots of targetForm()'s output (grammar.ts): an absolute-form target's authority start and path start. */
const TARGET_PARTS = 2;

/**
 * Out-parameters of the line checks (lines.ts) and of targetForm(): where
 * a line's parts lie. One pair for every head in the thread rather than
 * a pair per connection (two typed arrays and their buffers, ~370 bytes
 * of heap each connection): each is filled and read within one call of
 * requestLine(), field() or trailer(), which call no user code, so no
 * other head can use them in between.
 */
const LINE_PARTS_OUT = new Int32Array(LINE_PARTS);
const TARGET_PARTS_OUT = new Int32Array(TARGET_PARTS);

/**
 * The head being read (one per parser, reused for every request). Its
 * strings and `headers` are handed to the request the parser makes at the
 * blank line; `headers` is the request's from then on.
 */
export class RequestHead {
  /** The request line's method, as sent. */
  method: string;
  /** The target in origin-form (an absolute-form target's path and query), or `*`. */
  target: string;
  /** 1 for HTTP/1.1, 0 for HTTP/1.0. */
  versionMinor: number;
  /** The request's fields as they arrive: headers[0..count), names lower case. */
  headers: string[];
  /** What the head says about framing, filled by complete() (one object, reused). */
  readonly facts: HeadFacts;
  private count: number;
  /** The previous request's headers: strings to reuse when the next request repeats them (may be `headers` itself). */
  private previous: string[];
  /** An absolute-form target's scheme and authority (`http://a:80`, checked against Host), or null. */
  private authority: string | null;
  private readonly headersCountMax: number;

  /** A head for a parser whose limit is `headersCountMax` fields (431 past it). */
  constructor(headersCountMax: number) {
    this.method = '';
    this.target = '';
    this.versionMinor = 1;
    this.headers = [];
    this.facts = new HeadFacts();
    this.count = 0;
    this.previous = [];
    this.authority = null;
    this.headersCountMax = headersCountMax;
  }

  /**
   * Reads a request line, line[start..end) (CRLF removed), and starts a new
   * head. `spareHeaders`: the headers array of a request the server gave
   * back, written over in place; null when the last request may still be
   * read by its handler (a new array then).
   * @throws HttpParseError with the status to answer (lines.ts).
   */
  requestLine(line: Buffer, start: number, end: number, spareHeaders: string[] | null): void {
    const parts = LINE_PARTS_OUT;
    readRequestLine(line, start, end, parts, TARGET_PARTS_OUT);
    const first = parts[FIRST_SPACE]!;
    const second = parts[SECOND_SPACE]!;
    this.versionMinor = parts[VERSION_MINOR]!;
    this.method = latin1(line, start, first, this.method);
    if (parts[FORM] === TARGET_ABSOLUTE) {
      // RFC 9112 3.2.2: the authority comes from the target; handlers see the path and query as origin-form.
      const pathStart = TARGET_PARTS_OUT[TARGET_PATH_START]!; // the scheme stays with the authority: it decides the default port
      this.authority = line.toString('latin1', first + 1, pathStart);
      this.target = pathStart === second ? '/' : pathStart < second && line[pathStart] === QUESTION ? `/${line.toString('latin1', pathStart, second)}` : line.toString('latin1', pathStart, second);
    } else {
      this.authority = null;
      this.target = latin1(line, first + 1, second, this.target);
    }
    if (spareHeaders !== null) {
      // The last request came back: its array is written over in place,
      // each slot compared with what it held (the strings a keep-alive client repeats).
      this.headers = spareHeaders;
      this.previous = spareHeaders;
    } else {
      if (this.count > 0) this.previous = this.headers;
      this.headers = []; // the last request may still be read by its handler
    }
    this.count = 0;
  }

  /**
   * Reads a field line, line[start..end), into the next slots of `headers`.
   * @throws HttpParseError with the status to answer: 400 (lines.ts), 431 past the field count limit.
   */
  field(line: Buffer, start: number, end: number): void {
    const parts = LINE_PARTS_OUT;
    readFieldLine(line, start, end, parts);
    const slot = this.count;
    if (slot >> 1 >= this.headersCountMax) throw new HttpParseError(431, `more than ${this.headersCountMax} header fields`);
    // The field at this position last time, if the bytes are the same (checked, never assumed).
    const previous = this.previous;
    const previousName = slot < previous.length ? previous[slot] : undefined;
    const colon = parts[FIELD_COLON]!;
    const name = typeof previousName === 'string' && sameLowered(line, start, colon, previousName) ? previousName : line.toString('latin1', start, colon).toLowerCase();
    const value = latin1(line, parts[VALUE_START]!, parts[VALUE_END]!, slot + 1 < previous.length ? previous[slot + 1] : undefined);
    const headers = this.headers;
    if (slot < headers.length) {
      headers[slot] = name;
      headers[slot + 1] = value;
    } else {
      headers.push(name, value);
    }
    this.count = slot + 2;
  }

  /**
   * A trailer field line: checked as a field line is, then dropped
   * (trailers carry nothing this layer uses).
   * @throws HttpParseError 400 (lines.ts).
   */
  trailer(line: Buffer, start: number, end: number): void {
    readFieldLine(line, start, end, LINE_PARTS_OUT);
  }

  /**
   * The blank line came: `headers` holds exactly this request's fields, and
   * `facts` what they say about framing.
   * @throws HttpParseError with the status to answer (framing.ts).
   */
  complete(): HeadFacts {
    const headers = this.headers;
    if (headers.length !== this.count) headers.length = this.count; // a reused array that held more
    readHead(headers, this.versionMinor, this.authority, this.facts);
    return this.facts;
  }
}
