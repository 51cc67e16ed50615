/**
 * The checks of what a connection is asked to send, made before anything
 * is queued: a wrong argument throws at once and never reaches the socket.
 */
import { invalidArgType, outOfRange } from './errors.js';

/** What write() takes: bytes as they are, or a string sent as UTF-8. */
export type WriteData = string | Uint8Array;

const WRITE_DATA_TYPES = 'of type string or an instance of Buffer or Uint8Array';

/** `data` as bytes, or a coded TypeError (thrown before anything is queued). */
export function toBytes(name: string, data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  throw invalidArgType(name, WRITE_DATA_TYPES, data);
}

/** writeMany's scratch: checked parts, then queued; `partsInUse` while a call fills or queues it. */
const PARTS: Uint8Array[] = [];
const NO_PART = new Uint8Array(0);
let partsInUse = false;
/** The argument name of a part, built only for its error. */
const partName = (index: number): string => `parts[${index}]`;

/**
 * parts[0..count) checked and converted, in scratch slots reused by every
 * call (no array per call). Each part is read once: a getter on the
 * caller's array cannot change a part between its check and its queueing.
 * A call made while the scratch is in use (a getter or a callback that
 * writes again) gets an array of its own. Pass the result to releaseParts().
 */
export function checkedParts(parts: readonly unknown[], count: number): Uint8Array[] {
  const into = partsInUse ? new Array<Uint8Array>(count) : PARTS;
  partsInUse = true;
  try {
    for (let index = 0; index < count; index += 1) {
      const part = parts[index];
      into[index] = part instanceof Uint8Array ? part : toBytes(partName(index), part);
    }
  } catch (error) {
    releaseParts(into, count);
    throw error;
  }
  return into;
}

/** Empties the scratch once its parts are queued: the queue holds what it needs, the scratch keeps nothing alive. */
export function releaseParts(parts: Uint8Array[], count: number): void {
  if (parts !== PARTS) return;
  for (let index = 0; index < count; index += 1) PARTS[index] = NO_PART; // a loop: fill() calls into C++
  partsInUse = false;
}

/** sendFile()'s arguments, checked before anything is queued (an HTTP response checks them before its head). */
export function checkSendFileArguments(fileFd: unknown, offset: unknown, length: unknown): void {
  checkFileArgument('fileFd', fileFd, 2 ** 31 - 1);
  checkFileArgument('offset', offset, Number.MAX_SAFE_INTEGER);
  checkFileArgument('length', length, Number.MAX_SAFE_INTEGER);
}

/** A sendFile() argument: a non-negative integer up to `max`. */
function checkFileArgument(name: string, value: unknown, max: number): void {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value) || value < 0 || value > max) throw outOfRange(name, `an integer >= 0 and <= ${max}`, value);
}
