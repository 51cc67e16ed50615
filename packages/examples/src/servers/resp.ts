/**
 * An in-memory key-value server speaking RESP2: PING, ECHO, GET, SET (EX,
 * PX, NX, XX), DEL, EXISTS, INCR, DECR, MGET, MSET, EXPIRE, TTL, DBSIZE,
 * FLUSHALL, QUIT, and enough of COMMAND and CONFIG GET for redis-cli and
 * redis-benchmark to connect. Pipelined commands are answered in order,
 * all replies of one read in one write. Errors are RESP errors, as Redis
 * words them.
 */
import { Server, type Connection, type Reactor, type ServerOptions } from 'zepoll';
import { array, bulk, EMPTY_ARRAY, error, integerReply, NULL_BULK, OK, PONG, ProtocolError, RespParser } from './resp-protocol.js';

interface Entry {
  value: Buffer;
  /** performance.now() deadline, or Infinity. */
  expiresAt: number;
}

/** How often expired keys are swept (they are also dropped when read). */
const SWEEP_MS = 1000;
const INTEGER_MAX = 2n ** 63n - 1n;
const INTEGER_MIN = -(2n ** 63n);

export class Store {
  private readonly entries = new Map<string, Entry>();

  get(key: string): Buffer | null {
    const entry = this.entries.get(key);
    if (entry === undefined) return null;
    if (entry.expiresAt <= performance.now()) {
      this.entries.delete(key);
      return null;
    }
    return entry.value;
  }

  set(key: string, value: Buffer, ttlMs = Infinity): void {
    this.entries.set(key, { value, expiresAt: performance.now() + ttlMs });
  }

  delete(key: string): boolean {
    return this.get(key) !== null && this.entries.delete(key);
  }

  expire(key: string, ttlMs: number): boolean {
    const entry = this.get(key) === null ? undefined : this.entries.get(key);
    if (entry === undefined) return false;
    entry.expiresAt = performance.now() + ttlMs;
    if (ttlMs <= 0) this.entries.delete(key);
    return true;
  }

  /** Seconds to live: -2 no such key, -1 no expiry. */
  ttl(key: string): number {
    if (this.get(key) === null) return -2;
    const entry = this.entries.get(key)!;
    return entry.expiresAt === Infinity ? -1 : Math.ceil((entry.expiresAt - performance.now()) / 1000);
  }

  get size(): number {
    this.sweep();
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }

  sweep(): void {
    const now = performance.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}

const arity = (name: string): Buffer => error(`ERR wrong number of arguments for '${name}' command`);
const NOT_INTEGER = error('ERR value is not an integer or out of range');
const SYNTAX = error('ERR syntax error');

function positiveInteger(text: string): number | null {
  return /^-?\d{1,15}$/.test(text) ? Number(text) : null;
}

function incrementBy(store: Store, key: string, by: bigint): Buffer {
  const current = store.get(key);
  const text = current === null ? '0' : current.toString('latin1');
  if (!/^-?\d{1,19}$/.test(text)) return NOT_INTEGER;
  const next = BigInt(text) + by;
  if (next > INTEGER_MAX || next < INTEGER_MIN) return error('ERR increment or decrement would overflow');
  store.set(key, Buffer.from(next.toString()), current === null ? Infinity : Math.max(0, keepTtl(store, key)));
  return Buffer.from(`:${next}\r\n`);
}

function keepTtl(store: Store, key: string): number {
  const seconds = store.ttl(key);
  return seconds < 0 ? Infinity : seconds * 1000;
}

/** Runs one command; returns its reply, or null for QUIT (reply sent, then close). */
export function execute(store: Store, args: Buffer[]): Buffer | 'quit' {
  const name = args[0]!.toString('latin1').toLowerCase();
  const key = (index: number): string => args[index]!.toString('latin1');
  const count = args.length;
  switch (name) {
    case 'ping':
      if (count > 2) return arity(name);
      return count === 2 ? bulk(args[1]!) : PONG;
    case 'echo':
      return count === 2 ? bulk(args[1]!) : arity(name);
    case 'get':
      if (count !== 2) return arity(name);
      return ((value) => (value === null ? NULL_BULK : bulk(value)))(store.get(key(1)));
    case 'set': {
      if (count < 3) return arity(name);
      let ttlMs = Infinity;
      let condition: 'nx' | 'xx' | null = null;
      for (let index = 3; index < count; index += 1) {
        const option = key(index).toLowerCase();
        if ((option === 'ex' || option === 'px') && index + 1 < count && ttlMs === Infinity) {
          const amount = positiveInteger(key(index + 1));
          if (amount === null) return NOT_INTEGER;
          if (amount <= 0) return error("ERR invalid expire time in 'set' command");
          ttlMs = option === 'ex' ? amount * 1000 : amount;
          index += 1;
        } else if ((option === 'nx' || option === 'xx') && condition === null) {
          condition = option;
        } else {
          return SYNTAX;
        }
      }
      const exists = store.get(key(1)) !== null;
      if ((condition === 'nx' && exists) || (condition === 'xx' && !exists)) return NULL_BULK;
      store.set(key(1), Buffer.from(args[2]!), ttlMs); // copy: args view the parser's buffer
      return OK;
    }
    case 'del':
      if (count < 2) return arity(name);
      return integerReply(args.slice(1).filter((_, index) => store.delete(key(index + 1))).length);
    case 'exists':
      if (count < 2) return arity(name);
      return integerReply(args.slice(1).filter((_, index) => store.get(key(index + 1)) !== null).length);
    case 'incr':
      return count === 2 ? incrementBy(store, key(1), 1n) : arity(name);
    case 'decr':
      return count === 2 ? incrementBy(store, key(1), -1n) : arity(name);
    case 'mget':
      if (count < 2) return arity(name);
      return array(args.slice(1).map((_, index) => store.get(key(index + 1))));
    case 'mset':
      if (count < 3 || count % 2 === 0) return arity(name);
      for (let index = 1; index < count; index += 2) store.set(key(index), Buffer.from(args[index + 1]!));
      return OK;
    case 'expire': {
      if (count !== 3) return arity(name);
      const seconds = positiveInteger(key(2));
      if (seconds === null) return NOT_INTEGER;
      return integerReply(store.expire(key(1), seconds * 1000) ? 1 : 0);
    }
    case 'ttl':
      return count === 2 ? integerReply(store.ttl(key(1))) : arity(name);
    case 'dbsize':
      return count === 1 ? integerReply(store.size) : arity(name);
    case 'flushall':
      store.clear();
      return OK;
    case 'quit':
      return 'quit';
    case 'command':
      return EMPTY_ARRAY; // redis-cli asks for command docs at start; none is fine
    case 'config':
      if (count >= 2 && key(1).toLowerCase() === 'get') return EMPTY_ARRAY; // redis-benchmark reads settings at start
      return error(`ERR unknown subcommand '${count >= 2 ? key(1) : ''}'`);
    default: {
      const rest = args.slice(1, 4).map((arg) => `'${arg.toString('latin1')}'`).join(' ');
      return error(`ERR unknown command '${args[0]!.toString('latin1')}', with args beginning with: ${rest}`);
    }
  }
}


export function startResp(reactor: Reactor, options: ServerOptions): { server: Server; stop: () => void } {
  const store = new Store();
  const sweeper = setInterval(() => store.sweep(), SWEEP_MS);
  sweeper.unref();
  const server = new Server(
    reactor,
    {
      onOpen: (connection) => void (connection.context = new RespParser()),
      onData: (connection: Connection, data) => {
        const parser = connection.context as RespParser;
        parser.push(data);
        const replies: Buffer[] = [];
        try {
          for (let args = parser.next(); args !== null; args = parser.next()) {
            if (args.length === 0) continue;
            const reply = execute(store, args);
            if (reply === 'quit') {
              replies.push(OK);
              connection.writeMany(replies);
              connection.end();
              return;
            }
            replies.push(reply);
          }
        } catch (failure) {
          if (!(failure instanceof ProtocolError)) throw failure;
          replies.push(error(`ERR Protocol error: ${failure.message}`));
          connection.writeMany(replies);
          connection.end();
          return;
        }
        if (replies.length > 0) connection.writeMany(replies);
      },
    },
    options,
  );
  return { server, stop: () => clearInterval(sweeper) };
}
