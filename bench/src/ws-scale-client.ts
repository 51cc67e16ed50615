/**
 * The ws scenario's client process: holds COUNT WebSocket connections to
 * 127.0.0.1:PORT on zepoll's bare poller (no Connection, no stream: a few
 * typed-array slots per connection), so one process holds 17 000 of them
 * and reads a broadcast to all of them in a fraction of the servers' time.
 *
 * Connection i leaves from 127.SOURCE.x.y, CONNECTIONS_PER_SOURCE per
 * address, bound before the connect: one address has only ~28 000
 * ephemeral ports towards one server port. At most WINDOW connects and
 * upgrades are in flight at once (the accept pacing: the servers' backlogs
 * never overflow); a failed or timed-out attempt is retried.
 *
 * Spoken to over IPC (ws-scale-protocol.ts): `open`, then `active` (each
 * connection sends a 1 KiB message once per period, spread evenly, and
 * times its echo), `stats`; it reports each broadcast once every
 * connection has it. Exits when its parent goes away.
 *
 *   (forked by ws-scale.js) ws-scale-client.js PORT COUNT SOURCE_OCTET WINDOW
 */
import { binding, connectTcp, constants, openPoller } from 'zepoll';
import { getSystemErrorName } from 'node:util';
import { handshake, maskedFrame, OPCODE_BINARY, OPCODE_CLOSE, OPCODE_PING, OPCODE_PONG, OPCODE_TEXT, readFrames, responseHeadEnd } from './ws-scale-wire.js';
import { BROADCAST_MARK, BROADCAST_SEQUENCE_OFFSET, BROADCAST_TIME_OFFSET, ECHO_MARK, MESSAGE_SIZE, monotonicMs, type FromClient, type ToClient } from './ws-scale-protocol.js';

const HOST = '127.0.0.1';
const EAGAIN = -11;
const READ_SIZE = 64 * 1024;
/** Far below the ~28 000 ephemeral ports (32768-60999) one source address has. */
const CONNECTIONS_PER_SOURCE = 1000;
const ATTEMPTS_MAX = 5;
/** An attempt's bound: a dropped SYN is sent again after 1, 3 and 7 s. */
const ATTEMPT_TIMEOUT_MS = 15_000;
const RETRY_BACKOFF_MS = 200;
const SWEEP_MS = 250;
const TICK_MS = 5;
/** How long the last echoes of an active phase may take before it reports without them. */
const ECHO_GRACE_MS = 10_000;
const ECHO_WAIT_POLL_MS = 20;
const EVENTS_CAPACITY = 1024;
const WORDS = 3; // fd, token, flags

const [portText = '0', countText = '0', octetText = '0', windowText = '1'] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const octet = Number(octetText);
const window = Number(windowText);

const IDLE = 0;
const CONNECTING = 1;
const UPGRADING = 2;
const OPEN = 3;
const CLOSED = 4;

const fdOf = new Int32Array(count).fill(-1);
/** The token of the slot's current attempt: slot + count * attempt, so a stale event of an earlier attempt is dropped. */
const tokenOf = new Uint32Array(count);
const attempts = new Uint8Array(count);
const state = new Uint8Array(count);
const startedAt = new Float64Array(count);
/** performance.now() of the echo in flight, 0 when none. */
const sentAt = new Float64Array(count);
/** Bytes of a partial response head or frame, per slot (rare: loopback delivers whole writes). */
const leftovers = new Map<number, Buffer>();
const retryQueue: Array<{ slot: number; at: number }> = [];
const readBuffer = Buffer.allocUnsafe(READ_SIZE);
const { request, accept } = handshake(HOST, port);
const echoPayload = Buffer.alloc(MESSAGE_SIZE, 0x65);
echoPayload[0] = ECHO_MARK;
const echoFrame = maskedFrame(OPCODE_BINARY, echoPayload);

let nextSlot = 0;
let inFlight = 0;
let opened = 0;
let dropped = 0;
let retries = 0;
let firstDrop = '';
let sweeper: NodeJS.Timeout | null = null;
/** The slot whose frames readFrames() is delivering (one read at a time: no closure per read). */
let current = 0;

const broadcasts = new Map<number, { latencies: number[]; reported: boolean }>();
let activeLatencies: number[] = [];
let activeSentAt: number[] = [];
/** performance.now() minus monotonicMs() in this process: a send time on the shared clock without a BigInt per send. */
const clockOffset = performance.now() - monotonicMs();
let sent = 0;
let echoed = 0;
let skipped = 0;

const { native: poller, events } = openPoller(EVENTS_CAPACITY);
const say = (message: FromClient): void => void process.send!(message);
const sourceOf = (slot: number): string => {
  const address = Math.floor(slot / CONNECTIONS_PER_SOURCE) + 1;
  return `127.${octet}.${address >> 8}.${address & 0xff}`;
};
const errorName = (rc: number): string => (rc < 0 ? getSystemErrorName(rc) : `rc ${rc}`);

let failed = false;

/** Reports the first failure to the driver, then exits (later ones add nothing). */
function fail(error: string): void {
  if (failed) return;
  failed = true;
  process.send!({ type: 'failed', error: `client ${octet}: ${error}` } satisfies FromClient, () => process.exit(1));
}

function closeSlot(slot: number, next: number): void {
  if (fdOf[slot]! >= 0) binding.close(fdOf[slot]!);
  fdOf[slot] = -1;
  state[slot] = next;
  leftovers.delete(slot);
}

function startAttempt(slot: number): void {
  let fd: number;
  try {
    fd = connectTcp(HOST, port, sourceOf(slot));
  } catch (error) {
    attemptFailed(slot, (error as Error).message);
    return;
  }
  fdOf[slot] = fd;
  tokenOf[slot] = slot + count * attempts[slot]!;
  state[slot] = CONNECTING;
  startedAt[slot] = performance.now();
  const rc = poller.add(fd, constants.EPOLLOUT | constants.EPOLLIN | constants.EPOLLRDHUP, tokenOf[slot]!);
  if (rc < 0) attemptFailed(slot, `epoll_ctl ${errorName(rc)}`);
}

function attemptFailed(slot: number, reason: string): void {
  closeSlot(slot, IDLE);
  attempts[slot] = attempts[slot]! + 1;
  if (attempts[slot]! >= ATTEMPTS_MAX) return fail(`connection ${slot} from ${sourceOf(slot)}: ${reason}, ${ATTEMPTS_MAX} attempts`);
  retries += 1;
  retryQueue.push({ slot, at: performance.now() + RETRY_BACKOFF_MS * attempts[slot]! });
}

function startMore(): void {
  while (inFlight < window && nextSlot < count) {
    inFlight += 1;
    startAttempt(nextSlot);
    nextSlot += 1;
  }
}

/** Retries that are due, and attempts past their bound. */
function sweep(): void {
  const now = performance.now();
  for (let index = retryQueue.length - 1; index >= 0; index -= 1) {
    const retry = retryQueue[index]!;
    if (retry.at > now) continue;
    retryQueue.splice(index, 1);
    startAttempt(retry.slot);
  }
  for (let slot = 0; slot < nextSlot; slot += 1) {
    if ((state[slot] === CONNECTING || state[slot] === UPGRADING) && now - startedAt[slot]! > ATTEMPT_TIMEOUT_MS) attemptFailed(slot, `no 101 within ${ATTEMPT_TIMEOUT_MS} ms`);
  }
}

function write(slot: number, frame: Buffer): void {
  const rc = poller.write(fdOf[slot]!, frame, 0, frame.length);
  // 1 KiB every 10 s never fills a socket buffer: a short write means the server stopped reading.
  if (rc !== frame.length) fail(`a ${frame.length}-byte write took ${rc < 0 ? errorName(rc) : rc}: the server is not reading`);
}

function peerClosed(slot: number, reason: string): void {
  if (state[slot] !== OPEN) return attemptFailed(slot, reason);
  dropped += 1;
  firstDrop ||= `connection ${slot}: ${reason}`;
  closeSlot(slot, CLOSED);
}

function onFrame(opcode: number, payload: Buffer): void {
  const slot = current;
  if (opcode === OPCODE_BINARY || opcode === OPCODE_TEXT) {
    if (payload[0] === ECHO_MARK && sentAt[slot]! > 0) {
      activeLatencies.push(performance.now() - sentAt[slot]!);
      activeSentAt.push(sentAt[slot]! - clockOffset);
      sentAt[slot] = 0;
      echoed += 1;
    } else if (payload[0] === BROADCAST_MARK) {
      received(payload.readUInt32LE(BROADCAST_SEQUENCE_OFFSET), monotonicMs() - payload.readDoubleLE(BROADCAST_TIME_OFFSET));
    }
  } else if (opcode === OPCODE_PING) {
    write(slot, maskedFrame(OPCODE_PONG, payload));
  } else if (opcode === OPCODE_CLOSE) {
    peerClosed(slot, `close frame ${payload.length >= 2 ? payload.readUInt16BE(0) : ''}`);
  }
}

/** One connection has broadcast `sequence`; reported once every open connection has it. */
function received(sequence: number, latency: number): void {
  let entry = broadcasts.get(sequence);
  if (entry === undefined) broadcasts.set(sequence, (entry = { latencies: [], reported: false }));
  entry.latencies.push(latency);
  if (!entry.reported && entry.latencies.length >= opened - dropped) {
    entry.reported = true;
    say({ type: 'broadcastReceived', sequence, latenciesMs: entry.latencies });
  }
}

function onReadable(slot: number, fd: number): void {
  const got = poller.read(fd, readBuffer, 0, READ_SIZE);
  if (got === EAGAIN) return;
  if (got <= 0) return peerClosed(slot, got === 0 ? 'end of stream' : errorName(got));
  const leftover = leftovers.get(slot);
  let bytes = leftover === undefined ? readBuffer.subarray(0, got) : Buffer.concat([leftover, readBuffer.subarray(0, got)]);
  leftovers.delete(slot);
  if (state[slot] === UPGRADING) {
    let end: number;
    try {
      end = responseHeadEnd(bytes, accept);
    } catch (error) {
      return attemptFailed(slot, (error as Error).message);
    }
    if (end < 0) return void leftovers.set(slot, Buffer.from(bytes));
    state[slot] = OPEN;
    opened += 1;
    inFlight -= 1;
    startMore();
    if (opened === count) opening(false);
    bytes = bytes.subarray(end);
  }
  current = slot;
  try {
    const rest = readFrames(bytes, onFrame);
    if (rest !== null && state[slot] === OPEN) leftovers.set(slot, rest);
  } catch (error) {
    fail(`connection ${slot}: ${(error as Error).message}`);
  }
}

function onEvent(fd: number, token: number, flags: number): void {
  const slot = token % count;
  if (tokenOf[slot] !== token || fdOf[slot] !== fd) return; // an earlier attempt's event
  if (state[slot] === CONNECTING) {
    const rc = binding.socketError(fd);
    if (rc !== 0) return attemptFailed(slot, `connect ${errorName(rc)}`);
    if ((flags & constants.EPOLLOUT) === 0) return;
    poller.modify(fd, constants.EPOLLIN | constants.EPOLLRDHUP, token); // writable stays ready: asked once
    state[slot] = UPGRADING;
    write(slot, request);
    return;
  }
  onReadable(slot, fd);
}

/** Starts the opening (true), or ends it once every connection is open (false). */
function opening(start: boolean): void {
  if (start) {
    sweeper = setInterval(sweep, SWEEP_MS);
    startMore();
    return;
  }
  clearInterval(sweeper!);
  say({ type: 'opened', retries });
}

/** Each open connection sends one message per period, spread evenly over it, for `periods` periods. */
function active(periodMs: number, periods: number): void {
  const total = count * periods;
  const start = performance.now();
  activeLatencies = [];
  activeSentAt = [];
  sent = echoed = skipped = 0;
  let due = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    const target = Math.min(total, Math.floor(((now - start) / periodMs) * count));
    for (; due < target; due += 1) {
      const slot = due % count;
      if (state[slot] !== OPEN) continue;
      if (sentAt[slot] !== 0) {
        skipped += 1; // its last echo is a whole period late: counted, not stacked
        continue;
      }
      sentAt[slot] = now;
      sent += 1;
      write(slot, echoFrame);
    }
    if (due < total) return;
    clearInterval(ticker);
    const waitUntil = performance.now() + ECHO_GRACE_MS;
    const waiter = setInterval(() => {
      if (echoed < sent && performance.now() < waitUntil) return;
      clearInterval(waiter);
      say({ type: 'activeDone', sent, echoed, skipped, latenciesMs: activeLatencies, sentAtMs: activeSentAt });
    }, ECHO_WAIT_POLL_MS);
  }, TICK_MS);
}

poller.start(function onBatch(ready: number): void {
  for (let index = 0; index < ready; index += 1) {
    const base = index * WORDS;
    onEvent(events[base]!, events[base + 1]!, events[base + 2]!);
  }
});

process.on('message', (message: ToClient) => {
  if (message.type === 'open') opening(true);
  else if (message.type === 'active') active(message.periodMs, message.periods);
  else {
    const counts: Record<string, number> = {};
    for (const [sequence, entry] of broadcasts) counts[sequence] = entry.latencies.length;
    say({ type: 'stats', opened, dropped, retries, broadcasts: counts, ...(firstDrop === '' ? {} : { firstDrop }) });
  }
});
// The driver going away (its run done, or failed) ends this process.
process.on('disconnect', () => process.exit(0));
say({ type: 'ready' });
