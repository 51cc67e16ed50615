/**
 * `npm run bench`: the binding micro-benchmark, then echo round trips of
 * Node's net against zepoll in each mode. Prints tables and saves every
 * figure with the machine's facts in bench/results/<timestamp>.json.
 *
 *   node bench/dist/main.js [--seconds 5] [--repeats 3]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatEcho, runEcho } from './echo.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const RESULTS = join(HERE, '..', 'results');

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, repeats: { type: 'string', default: '3' } } });
const seconds = Number(values.seconds);
const repeats = Number(values.repeats);
if (!(seconds > 0 && seconds <= 60) || !(Number.isInteger(repeats) && repeats >= 1 && repeats <= 10)) {
  process.stderr.write('usage: main.js [--seconds 1..60] [--repeats 1..10]\n');
  process.exit(2);
}

process.stderr.write('binding micro-benchmark...\n');
const micro = execFileSync(process.execPath, [join(HERE, 'binding-micro.js'), '--json', '--seconds', String(Math.min(seconds, 2))], { encoding: 'utf8' });
const microFigures = JSON.parse(micro) as { figures: Array<{ name: string; unit: string; median: number; min: number; max: number; c?: number }> };
process.stdout.write('binding (median of 5 rounds)\n');
for (const figure of microFigures.figures) {
  const versusC = figure.c === undefined ? '' : `  (same call from C: ${figure.c.toFixed(1)} ns)`;
  process.stdout.write(`  ${figure.name.padEnd(34)} ${figure.median.toFixed(1).padStart(12)} ${figure.unit}${versusC}\n`);
}

const echo = await runEcho({ connections: 50, size: 64, seconds, repeats, kinds: ['node', 'lt', 'et', 'et-infinity', 'oneshot'] }, (text) => process.stderr.write(`${text}\n`));
process.stdout.write(`\necho, 50 connections, 64-byte messages, ${seconds} s x ${repeats} (median)\n${formatEcho(echo)}\n`);

const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, kernel: release(), node: process.version };
mkdirSync(RESULTS, { recursive: true });
const file = join(RESULTS, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify({ machine, micro: microFigures.figures, echo }, null, 2)}\n`);
process.stdout.write(`\nsaved ${file}\n`);
