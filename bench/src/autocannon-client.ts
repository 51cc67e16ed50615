/**
 * autocannon through its programmatic API, in a process of its own (so it
 * can be pinned to a CPU): `node autocannon-client.js URL CONNECTIONS
 * PIPELINING SECONDS`. Prints one JSON line: requests/s, latency
 * percentiles in ms, errors, timeouts, non-2xx, and this process's CPU
 * seconds.
 */
import autocannon from 'autocannon';

const [url, connections, pipelining, seconds] = process.argv.slice(2);
const result = await autocannon({ url: url!, connections: Number(connections), pipelining: Number(pipelining), duration: Number(seconds) });
const usage = process.cpuUsage();
process.stdout.write(
  `${JSON.stringify({
    requestsPerSecond: result.requests.total / (result.duration || Number(seconds)),
    p50ms: result.latency.p50,
    p99ms: result.latency.p99,
    maxMs: result.latency.max,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    clientCpuSeconds: (usage.user + usage.system) / 1e6,
    elapsedSeconds: result.duration,
  })}\n`,
);
