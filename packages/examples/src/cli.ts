#!/usr/bin/env node
/**
 * `zepoll-examples <name> [options]`: runs one example server until
 * SIGINT/SIGTERM. Examples so far: raw-echo (the binding without the reactor).
 */
import { parseArgs } from 'node:util';
import { startRawEcho } from './raw-echo.js';

const USAGE = `usage: zepoll-examples <name> [--host 127.0.0.1] [--port 0]
  raw-echo   TCP echo on the raw binding (no reactor)`;

function main(argv: readonly string[]): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '0' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const port = Number(values.port);
  if (positionals[0] !== 'raw-echo' || positionals.length !== 1 || !Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`bad arguments: ${argv.join(' ')}\n${USAGE}\n`);
    return 2;
  }
  const server = startRawEcho(values.host, port);
  process.stdout.write(`listening on tcp://${server.listener.host}:${server.listener.port}\n`);
  const stop = (): void => {
    server.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return -1;
}

const code = main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
