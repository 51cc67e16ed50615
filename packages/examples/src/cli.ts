#!/usr/bin/env node
/**
 * `zepoll-examples <name> [options]`: runs one example server until SIGINT
 * or SIGTERM, then closes gracefully and exits 0. See options.ts for the
 * command line; a bad option prints what is wrong and the usage (exit 2).
 */
import { startWorkers } from 'zepoll';
import { parseOptions, schemeOf, USAGE, UsageError, type ExampleOptions } from './options.js';
import { startExample } from './run.js';
import { doctorReport } from './doctor.js';

const EXIT_USAGE = 2;

async function main(argv: readonly string[]): Promise<number | null> {
  if (argv[0] === 'doctor' && argv.length === 1) {
    process.stdout.write(`${doctorReport()}\n`);
    return 0;
  }
  let options: ExampleOptions | null;
  try {
    options = parseOptions(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`zepoll-examples: ${error.message}\n\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  if (options === null) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const scheme = schemeOf(options.name);
  let port: number;
  let close: () => Promise<void>;
  if (options.workers > 0) {
    const group = await startWorkers({ entry: new URL('./worker.js', import.meta.url), count: options.workers, pin: options.pin, host: options.host, port: options.port, data: options });
    port = group.port;
    close = () => group.close();
  } else {
    const running = startExample(options, false);
    port = running.port;
    close = () => running.close();
  }
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  process.stdout.write(`${options.name}: listening on ${scheme}://${host}:${port} (${options.backend === 'epoll' ? `mode ${options.mode}` : `backend ${options.backend}`}${options.workers > 0 ? `, ${options.workers} workers` : ''})\n`);
  let closing = false;
  const shutdown = (): void => {
    if (closing) return;
    closing = true;
    void close().then(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  return null; // keep running
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== null) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`zepoll-examples: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
