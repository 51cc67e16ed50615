/**
 * Checks of values that come from users: options at construction and
 * arguments of public calls. Each throws Node's error for the mistake (a
 * TypeError for a wrong type, a RangeError for a number out of range, both
 * with a `code` and the argument's name) at once, so a bad option fails
 * where it is written instead of crashing later inside a turn.
 */
import { invalidArgType, invalidArgValue, outOfRange } from './errors.js';

/** An options bag: undefined (all defaults) or a plain object. */
export function optionsObject<T extends object>(name: string, value: T | undefined): T {
  if (value === undefined) return {} as T;
  if (value === null || typeof value !== 'object') throw invalidArgType(name, 'of type object', value);
  return value;
}

/** A handler object (required): plain or a class instance, used as given. */
export function handlerObject<T extends object>(name: string, value: T): T {
  if (value === null || typeof value !== 'object') throw invalidArgType(name, 'of type object', value);
  return value;
}

/** An optional callback. */
export function optionalFunction<F>(name: string, value: F | undefined): F | undefined {
  if (value !== undefined && typeof value !== 'function') throw invalidArgType(name, 'of type function', value);
  return value;
}

/** Each named method of a handler, when present, is a function. */
export function handlerMethods(name: string, handler: object, methods: readonly string[]): void {
  for (const method of methods) optionalFunction(`${name}.${method}`, (handler as Record<string, unknown>)[method]);
}

/** An integer from `min` to `max` (both inclusive), or `fallback` when undefined. */
export function integerOption(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value) || value < min || value > max) throw outOfRange(name, `an integer >= ${min} and <= ${max}`, value);
  return value;
}

/** An integer of at least `min`, or Infinity; `fallback` when undefined. */
export function integerOrInfinityOption(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (value !== Infinity && (!Number.isSafeInteger(value) || value < min)) throw outOfRange(name, `an integer >= ${min} or Infinity`, value);
  return value;
}

export function booleanOption(name: string, value: boolean | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidArgType(name, 'of type boolean', value);
  return value;
}

export function stringOption(name: string, value: string | undefined, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string') throw invalidArgType(name, 'of type string', value);
  return value;
}

/** One of `allowed`, or `fallback` when undefined. */
export function oneOfOption<T extends string>(name: string, value: T | undefined, fallback: T, allowed: readonly T[]): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value)) throw invalidArgValue(name, `must be one of ${allowed.map((item) => `'${item}'`).join(', ')}`, value);
  return value;
}

/** A TCP port: an integer from 0 to 65535. */
export function portOption(name: string, value: number | undefined, fallback: number): number {
  return integerOption(name, value, fallback, 0, 65535);
}
