/**
 * The checks of what a response is asked to send, made before its head is
 * queued: a wrong status or reason phrase, a value JSON cannot carry, a
 * body on a 204 or one that contradicts a declared Content-Length, a file
 * shorter than the range asked for, throw at once and nothing reaches the
 * wire (as write-arguments.ts does for a connection's writes).
 */
import { fstatSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { errnoError, invalidArgType, invalidArgValue, outOfRange, ZepollError, ZepollRangeError } from '../errors.js';
import { LENGTH_UNDECLARED } from './response-headers.js';

/** reason-phrase = *( HTAB / SP / VCHAR / obs-text ) (RFC 9112 4): no CR, LF or other control byte, nothing past Latin-1. */
const REASON_PHRASE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** What statusMessage holds when the status's usual reason phrase is sent. */
export const REASON_DEFAULT = '';

/**
 * A final status: 200..999 (1xx are interim responses; this layer sends
 * 100 Continue itself and supports no upgrade).
 */
export function checkStatus(name: string, status: unknown): number {
  if (typeof status !== 'number') throw invalidArgType(name, 'of type number', status);
  if (!Number.isInteger(status) || status < 200 || status > 999) throw outOfRange(name, 'an integer >= 200 and <= 999 (a final status)', status);
  return status;
}

/**
 * The reason phrase to send with `status`: null for its usual one (the
 * head then stays cacheable), else `message` once checked as a
 * reason-phrase.
 */
export function reasonPhrase(status: number, message: unknown): string | null {
  // The usual phrase given explicitly (a proxied upstream's 'OK') is the default too.
  if (message === REASON_DEFAULT || message === STATUS_CODES[status]) return null;
  if (typeof message !== 'string') throw invalidArgType('statusMessage', 'of type string', message);
  if (!REASON_PHRASE.test(message)) throw invalidArgValue('statusMessage', 'must hold only tab, space, visible ASCII and Latin-1 characters (RFC 9112 reason-phrase)', message);
  return message;
}

/** RFC 9110 6.4.1, 15.3.5, 15.4.5: 204 and 304 responses have no content, and no framing for one. */
export function hasNoContent(status: number): boolean {
  return status === 204 || status === 304;
}

/** 204 and 304 carry no content: a body for one is a mistake, never bytes on the wire. */
export function refuseContent(status: number): void {
  if (hasNoContent(status)) throw new ZepollError('ERR_ZEPOLL_HTTP_RESPONSE', `a ${status} response has no content (RFC 9110); the body was not sent`);
}

/** A body sent whole, `length` bytes, must match a declared Content-Length (a HEAD response sends none). */
export function checkWholeBody(declared: number, headOnly: boolean, length: number): void {
  if (declared === LENGTH_UNDECLARED || headOnly || declared === length) return;
  throw new ZepollError('ERR_ZEPOLL_HTTP_RESPONSE', `the body has ${length} bytes but Content-Length was set to ${declared}`);
}

/** A streamed part of `size` bytes must fit in what is left of a declared Content-Length (a HEAD response sends none). */
export function checkStreamedPart(declared: number, headOnly: boolean, sent: number, size: number): void {
  if (declared === LENGTH_UNDECLARED || headOnly || sent + size <= declared) return;
  throw new ZepollError('ERR_ZEPOLL_HTTP_RESPONSE', `write() past the declared Content-Length of ${declared}`);
}

/** The last part of a body streamed within a declared Content-Length, `size` bytes at end(), must complete it. */
export function checkLastPart(declared: number, sent: number, size: number): void {
  if (sent + size === declared) return;
  throw new ZepollError('ERR_ZEPOLL_HTTP_RESPONSE', `end() would leave ${declared - sent - size} bytes of the declared Content-Length unsent`);
}

/**
 * The file behind `fd` is a regular file holding offset + length bytes:
 * checked before the head is committed, so a bad fd, a directory or a
 * short file fails the handler (a 500) instead of a 200 with a cut body.
 */
export function checkFileRange(fd: number, offset: number, length: number): void {
  let size: number;
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw invalidArgValue('fd', 'is not a regular file', fd);
    size = stats.size;
  } catch (error) {
    const errno = (error as { errno?: number }).errno;
    if (typeof errno === 'number' && errno < 0) throw errnoError(errno, 'fstat', fd);
    throw error;
  }
  if (offset + length > size) throw new ZepollRangeError('ERR_OUT_OF_RANGE', `The file of fd ${fd} has ${size} bytes; offset ${offset} + length ${length} is past its end`);
}

/** `value` as JSON text, or a coded TypeError when JSON cannot carry it. */
export function jsonText(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    // A cycle, a BigInt, a throwing toJSON: coded, with the reason.
    const failure = invalidArgValue('value', `cannot be sent as JSON (${(error as Error).message})`, typeof value);
    (failure as { cause?: unknown }).cause = error;
    throw failure;
  }
  if (text === undefined) throw invalidArgValue('value', 'cannot be sent as JSON', value);
  return text;
}
