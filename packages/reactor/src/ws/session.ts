/**
 * One WebSocket connection's protocol engine: it takes the Connection
 * over (the ConnectionHandler a 101 hands it to), parses frames from the
 * pooled chunks (FrameParser: unmasked and UTF-8-checked in place),
 * delivers messages, answers pings, runs the close handshake, keeps the
 * idle heartbeat and applies the backpressure policy. Its socket
 * (socket.ts) is the face handlers see.
 *
 * Messages: pieces are joined (and inflated, under permessage-deflate)
 * by a MessageAssembler; one that lies whole in one read is handed over
 * as a view of the chunk (valid during the call, as onData's views).
 * Sending compresses in the call (deflate.ts) when deflate was agreed.
 *
 * Closing (RFC 6455 §5.5.1, §7): a close frame received is echoed with
 * its code, then our side ends (FIN) and the connection closes at the
 * peer's FIN; a close we send (end(), a protocol error, a handler's
 * failure) waits for the peer's close frame, then ends. A peer that does
 * not finish within closeTimeoutMs is destroyed. A protocol error (1002,
 * 1007, 1009) ends at once after its close frame: nothing more is read.
 *
 * Heartbeat: the connection's idle timeout (the server's `idleTimeoutMs`)
 * sends a ping when no byte moved for that long, and destroys the
 * connection when a second period passes with nothing received.
 */
import { coreOf, type Core } from '../core.js';
import type { Connection } from '../connection.js';
import { asError } from '../errors.js';
import { callSafely, isThenable } from '../safe-call.js';
import { CLOSE_REASON_SIZE_MAX } from './limits.js';
import { CLOSE_ABNORMAL, CLOSE_INTERNAL_ERROR, CLOSE_NO_STATUS, CLOSE_GOING_AWAY } from './close.js';
import { FrameParser, type FrameHandler } from './frame-parser.js';
import type { FrameEncoder } from './frame-encoder.js';
import { MessageDeflate } from './deflate.js';
import { MessageAssembler } from './message-assembler.js';
import type { PerMessageDeflateAgreement } from './permessage-deflate.js';
import { WebSocketProtocolError } from './protocol-error.js';
import { OPCODE_PING, OPCODE_PONG, type Opcode, type WebSocketRole } from './wire.js';
import type { ResolvedWebSocketOptions, WebSocketBehavior } from './behavior.js';
import type { Subscriber, Topics } from './topics.js';
import { Heartbeat } from './heartbeat.js';
import { SEND_BACKPRESSURE, SEND_DROPPED, SEND_SUCCESS, WebSocket, type SendStatus } from './socket.js';

/** What every socket of one server (or one client) shares, checked once. */
export interface SessionSettings<T> {
  readonly behavior: WebSocketBehavior<T>;
  readonly options: ResolvedWebSocketOptions<T>;
  readonly role: WebSocketRole;
  readonly encoder: FrameEncoder;
  readonly topics: Topics;
}

const enum State {
  Open,
  /** A close frame went out: waiting for the peer's (then its FIN). */
  Closing,
  Closed,
}

/** Payloads up to this size are copied behind their header into one buffer; larger ones go out as a gather write, uncopied. */
const FRAME_COPY_SIZE_MAX = 16 * 1024;
const EMPTY = Buffer.alloc(0);

/** One connection's WebSocket protocol (see above): the FrameParser's handler, told the connection's events by a SessionHandler. */
export class WebSocketSession<T> implements FrameHandler, Subscriber {
  /** The face handlers see. */
  readonly socket: WebSocket<T>;
  readonly connection: Connection;
  readonly settings: SessionSettings<T>;
  private readonly core: Core;
  private readonly parser: FrameParser;
  /** permessage-deflate's codec and the terms' header value, when it was agreed. */
  readonly deflate: MessageDeflate | null;
  readonly extensions: string | null;
  private readonly message: MessageAssembler;
  private state: State;
  /** False once a failure left the parser (a protocol error, a handler's throw): nothing more is parsed. */
  private reading: boolean;
  /** The close handshake's code and reason, once one was seen or sent (-1: none). */
  private closeCode: number;
  private closeReason: string;
  private closeTimer: NodeJS.Timeout | null;
  /** A heartbeat ping went out and nothing came back yet. */
  private pingOutstanding: boolean;
  /** Topics this socket is subscribed to (made at the first subscribe). */
  topics: Set<string> | null;
  /** Made at the first late failure (a rejected handler promise), then kept. */
  private lateFailure: ((error: unknown) => void) | null;
  /** The socket's own heartbeat, when its connection has no idle timeout (idleTimeoutMs option). */
  private heartbeat: Heartbeat | null;

  /** A session for `connection` (not yet handed over), with the user's `data`, under the permessage-deflate `agreement` (null: none). */
  constructor(connection: Connection, settings: SessionSettings<T>, data: T, agreement: PerMessageDeflateAgreement | null = null) {
    const options = settings.options;
    this.connection = connection;
    this.settings = settings;
    this.core = coreOf(connection.reactor);
    this.parser = new FrameParser(this, { role: settings.role, messageSizeMax: options.maxPayloadLength, perMessageDeflate: agreement !== null });
    this.deflate = agreement === null ? null : new MessageDeflate(agreement, settings.role, options.perMessageDeflate!, options.maxPayloadLength);
    this.extensions = agreement?.header ?? null;
    this.message = new MessageAssembler(this.deflate);
    this.state = State.Open;
    this.reading = true;
    this.closeCode = -1;
    this.closeReason = '';
    this.closeTimer = null;
    this.pingOutstanding = false;
    this.topics = null;
    this.lateFailure = null;
    this.heartbeat = null;
    this.socket = new WebSocket(this, data);
  }

  /** True until a close frame went out or the connection closed. */
  get isOpen(): boolean {
    return this.state === State.Open;
  }

  // ---- the connection's events (session-handler.ts passes them on) ----

  /** The connection is ours: the heartbeat starts (when it is the socket's own), the open handler runs. */
  opened(): void {
    const heartbeatMs = this.settings.options.idleTimeoutMs;
    if (heartbeatMs > 0 && this.connection.idleTimeoutMs === 0) {
      this.heartbeat = new Heartbeat(this.connection, this, heartbeatMs);
      this.core.trackIdle(this.heartbeat);
    }
    this.call(this.settings.behavior.open);
  }

  /** The write queue drained after send() said SEND_BACKPRESSURE. */
  drained(): void {
    if (this.state === State.Open) this.call(this.settings.behavior.drain);
  }

  /** The peer's FIN: without a close frame first it is an abnormal closure (1006); our side ends too. */
  peerEnded(): void {
    this.connection.end();
  }

  /** The heartbeat: a ping after an idle period, the end after a second one without an answer. */
  timedOut(): void {
    if (this.pingOutstanding || this.state !== State.Open) {
      this.connection.destroy();
      return;
    }
    this.pingOutstanding = true;
    this.connection.write(this.settings.encoder.frame(OPCODE_PING, EMPTY));
  }

  /** The server is closing: 1001 (Going Away), then the close handshake. */
  serverClosing(): void {
    if (this.state === State.Open) this.startClose(CLOSE_GOING_AWAY, 'server closing', false);
    else this.connection.end();
  }

  /**
   * A system error (a reset) or a full queue: the close follows, nothing
   * to report. (A handler's failure never comes this way: the session
   * catches and reports its handlers' failures itself.)
   */
  failed(_error: Error): void {}

  /** The connection closed: topics are left, the close handler runs last. */
  closed(): void {
    this.state = State.Closed;
    if (this.heartbeat !== null) this.core.untrackIdle(this.heartbeat);
    if (this.closeTimer !== null) clearTimeout(this.closeTimer);
    this.closeTimer = null;
    this.message.drop();
    if (this.topics !== null) {
      for (const topic of this.topics) this.settings.topics.remove(topic, this);
      this.topics = null;
    }
    const close = this.settings.behavior.close;
    if (close === undefined) return;
    const code = this.closeCode === -1 ? CLOSE_ABNORMAL : this.closeCode;
    let result: unknown;
    try {
      result = close.call(this.settings.behavior, this.socket, code, this.closeReason);
    } catch (error) {
      this.report(error);
      return;
    }
    if (isThenable(result)) result.then(undefined, (error: unknown) => this.report(error));
  }

  /** Bytes read: data[0..length), parsed in place. */
  received(bytes: Buffer, length: number): void {
    this.pingOutstanding = false;
    if (!this.reading) return;
    try {
      this.parser.execute(bytes, 0, length);
    } catch (error) {
      // The parser (mid-frame, or failed) is not used again: the close under way ends the connection.
      this.reading = false;
      if (error instanceof WebSocketProtocolError) this.startClose(error.closeCode, error.message.slice(0, CLOSE_REASON_SIZE_MAX), true);
      else this.handlerFailed(error);
    }
  }

  // ---- FrameHandler ----

  /** FrameHandler: a message begins. */
  onMessageStart(binary: boolean, compressed: boolean): void {
    this.message.begin(binary, compressed);
  }

  /** FrameHandler: a piece of the message; the last one delivers it. */
  onMessageData(data: Uint8Array, start: number, end: number, final: boolean): void {
    if (this.state !== State.Open) return; // closing: what still comes is read and dropped
    // The reads are Buffers (a pool chunk, or the bytes an upgrade passed over).
    const message = this.message.add(data as Buffer, start, end, final);
    if (message !== null) this.deliver(message);
  }

  private deliver(message: Buffer): void {
    const handler = this.settings.behavior.message;
    if (handler === undefined) return;
    // Called here, not through call(): a throw must leave execute() (the parser is not used after it).
    const result = handler.call(this.settings.behavior, this.socket, message, this.message.binary);
    if (isThenable(result)) result.then(undefined, this.failLate);
  }

  /** FrameHandler: a ping is answered with a pong of the same payload (control frames skip the backpressure policy). */
  onPing(data: Uint8Array, start: number, end: number): void {
    if (this.state === State.Open) this.connection.write(this.settings.encoder.frame(OPCODE_PONG, data, start, end));
  }

  /** FrameHandler: a pong (the heartbeat's answer; any byte read already counted). */
  onPong(): void {}

  /** FrameHandler: the peer's close frame: echoed when the peer began, and our side ends. */
  onClose(code: number, reason: string): void {
    if (this.state === State.Open) {
      this.closeCode = code;
      this.closeReason = reason;
      this.state = State.Closing;
      this.connection.write(this.settings.encoder.closeFrame(code === CLOSE_NO_STATUS ? undefined : code));
      this.armCloseTimer();
    }
    this.connection.end();
  }

  // ---- sending ----

  /** Whether a message may be queued now (the policy); closes the socket when told to. */
  private admits(): boolean {
    if (this.state !== State.Open) return false;
    if (this.connection.queuedBytes < this.settings.options.maxBackpressure) return true;
    if (this.settings.options.closeOnBackpressureLimit) this.connection.destroy();
    return false;
  }

  /** Sends a message (compressed when `compress` and deflate allow): a status as send() returns it. */
  send(opcode: Opcode, payload: Uint8Array | string, compress: boolean): SendStatus {
    if (!this.admits()) return SEND_DROPPED;
    return this.write(opcode, payload, compress) ? SEND_SUCCESS : SEND_BACKPRESSURE;
  }

  /** Subscriber: a published frame, as it is; `compressedFrom`: the payload it was compressed from, if it was. */
  sendFrame(frame: Buffer, compressedFrom: Uint8Array | null): boolean {
    if (!this.admits()) return false;
    this.connection.write(frame);
    if (compressedFrom !== null) this.deflate!.sharedSent(compressedFrom);
    return true;
  }

  /** Subscriber: a published payload, encoded (and compressed) for this socket: a client's mask, its window. */
  sendPayload(opcode: Opcode, payload: Uint8Array, compress: boolean): boolean {
    if (!this.admits()) return false;
    this.write(opcode, payload, compress);
    return true;
  }

  /** Subscriber: the window a shared compressed frame of `size` bytes needs for this socket, or 0 to send it uncompressed. */
  sharedWindowBits(size: number, compress: boolean): number {
    return this.deflate === null || !compress ? 0 : this.deflate.sharedWindowBits(size);
  }

  /** Encodes (compressing when asked and worth it) and queues one frame; write()'s answer (false above the high-water mark). */
  private write(opcode: Opcode, payload: Uint8Array | string, compress: boolean): boolean {
    const encoder = this.settings.encoder;
    const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
    const compressed = compress && this.deflate !== null ? this.deflate.compress(bytes) : null;
    if (compressed !== null) return this.writeOwned(opcode, compressed, true);
    if (bytes !== payload) return this.writeOwned(opcode, bytes as Buffer, false);
    if (encoder.masked || bytes.length <= FRAME_COPY_SIZE_MAX) return this.connection.write(encoder.frame(opcode, bytes));
    // A large server payload is not copied: it must not change until written, as with Connection.write().
    return this.connection.writeMany([encoder.header(opcode, bytes), bytes]);
  }

  /** Bytes of our own (a text's copy, compressed output): a client's masked in place, large ones never copied. */
  private writeOwned(opcode: Opcode, bytes: Buffer, compressed: boolean): boolean {
    const encoder = this.settings.encoder;
    if (!encoder.masked && bytes.length <= FRAME_COPY_SIZE_MAX) return this.connection.write(encoder.frame(opcode, bytes, 0, bytes.length, true, compressed));
    return this.connection.writeMany([encoder.header(opcode, bytes, 0, bytes.length, true, compressed), bytes]);
  }

  /** A ping with `payload` (at most 125 bytes); false when the socket is closing or closed. */
  ping(payload: Uint8Array): boolean {
    const frame = this.settings.encoder.frame(OPCODE_PING, payload); // checks the size first
    if (this.state !== State.Open) return false;
    this.connection.write(frame);
    return true;
  }

  // ---- closing ----

  /**
   * Sends our close frame (code, reason: checked by the encoder before
   * anything changes) and waits for the peer's; `failing` (a protocol
   * error) ends at once and reads nothing more.
   */
  startClose(code: number | undefined, reason: string, failing: boolean): void {
    const frame = this.settings.encoder.closeFrame(code, reason);
    if (this.state !== State.Open) return;
    this.state = State.Closing;
    this.closeCode = code ?? CLOSE_NO_STATUS;
    this.closeReason = reason;
    this.message.drop();
    this.connection.write(frame);
    if (failing) this.connection.end();
    this.armCloseTimer();
  }

  private armCloseTimer(): void {
    if (this.closeTimer !== null || !this.connection.isOpen) return;
    this.closeTimer = setTimeout(() => this.connection.destroy(), this.settings.options.closeTimeoutMs);
    this.closeTimer.unref();
  }

  // ---- the handler boundary ----

  private get failLate(): (error: unknown) => void {
    return (this.lateFailure ??= (error: unknown): void => this.handlerFailed(error));
  }

  /** Calls a handler with the socket; a throw or rejection fails the socket (1011). */
  private call(handler: ((ws: WebSocket<T>) => unknown) | undefined): void {
    if (handler === undefined) return;
    let result: unknown;
    try {
      result = handler.call(this.settings.behavior, this.socket);
    } catch (error) {
      this.handlerFailed(error);
      return;
    }
    if (isThenable(result)) result.then(undefined, this.failLate);
  }

  /** A handler failed: reported and counted, and the socket closes with 1011 (Internal Error). */
  handlerFailed(error: unknown): void {
    this.report(error);
    // Already closing: the handshake under way (with its timer) ends the connection.
    if (this.state === State.Open) this.startClose(CLOSE_INTERNAL_ERROR, 'handler failed', true);
  }

  /** A handler's error, to the onError option (counted) or else the reactor's onError. */
  private report(thrown: unknown): void {
    const error = asError(thrown);
    const onError = this.settings.options.onError;
    if (onError === undefined) {
      this.core.reportUnhandled(error, false);
      return;
    }
    this.core.noteHandlerError();
    callSafely(onError, null, error, this.socket, this.core.reportLate);
  }
}
