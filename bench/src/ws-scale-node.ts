/**
 * The `ws` package on Node's http, for the ws scenario: each socket echoes
 * what it gets; a broadcast iterates the server's clients (ws has no
 * topics). When one process cannot hold the sockets, WORKERS processes
 * share the port the way a Node 20 user does it: `cluster`. Node 20's
 * listen() has no reusePort (it came in 22.12 / 23.1; on 20 a second
 * listen with it fails EADDRINUSE), so the primary accepts and hands each
 * connection to a worker in turn (round robin, Node's default on Linux).
 * The primary is one of the server's processes: its CPU and memory count.
 * Its answers to the driver are its own plus its workers' (each worker
 * answers the primary with the same protocol, ws-scale-serve.ts).
 *
 *   node --expose-gc ws-scale-node.js PORT WORKERS
 */
import cluster, { type Worker } from 'node:cluster';
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { counts, fail, localReport, serve } from './ws-scale-serve.js';
import { BROADCAST_SEQUENCE_OFFSET, BROADCAST_TIME_OFFSET, LISTEN_BACKLOG, MESSAGE_SIZE, type FromServer, type ServerCounts, type ToServer } from './ws-scale-protocol.js';

const [portText = '0', workersText = '1'] = process.argv.slice(2);
const port = Number(portText);
const workerCount = Number(workersText);
const HOST = '127.0.0.1';
const PAYLOAD_MAX = 16 * MESSAGE_SIZE;
const WORKER_READY_MS = 20_000;

function startWorker(): void {
  const http = createServer((_request, response) => void response.writeHead(426, { Upgrade: 'websocket' }).end());
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: PAYLOAD_MAX });
  wss.on('connection', (ws) => {
    counts.open += 1;
    ws.on('message', (data, isBinary) => {
      counts.messages += 1;
      ws.send(data, { binary: isBinary });
    });
    ws.on('close', () => {
      counts.open -= 1;
      counts.closed += 1;
    });
    ws.on('error', () => {}); // a reset: its close follows, and the close is what is counted
  });
  const broadcast = async (payload: Buffer): Promise<number> => {
    for (const client of wss.clients) client.send(payload, { binary: true });
    return wss.clients.size;
  };
  // ws has no idle timeout, and Node's http timeouts end with the upgrade: nothing to set far out.
  http.listen({ host: HOST, port, backlog: LISTEN_BACKLOG }, () => serve({ report: localReport, broadcast }, [process.pid]));
  http.on('error', (error) => fail(`ws worker: ${error.message}`));
}

/** Sends `message` to a worker and resolves with its first answer of type `type`. */
function ask<T extends FromServer['type']>(worker: Worker, message: ToServer | null, type: T): Promise<Extract<FromServer, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (answer: FromServer): void => {
      if (answer.type === 'failed') return done(() => reject(new Error(`ws worker ${worker.process.pid}: ${answer.error}`)));
      if (answer.type === type) done(() => resolve(answer as Extract<FromServer, { type: T }>));
    };
    const onExit = (code: number): void => done(() => reject(new Error(`ws worker ${worker.process.pid} exited (${code})`)));
    const done = (settle: () => void): void => {
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      settle();
    };
    worker.on('message', onMessage);
    worker.on('exit', onExit);
    if (message !== null) worker.send(message);
  });
}

async function startPrimary(): Promise<void> {
  cluster.schedulingPolicy = cluster.SCHED_RR;
  cluster.setupPrimary({ execArgv: ['--expose-gc'] });
  const workers = Array.from({ length: workerCount }, () => cluster.fork());
  const timer = setTimeout(() => fail(`ws: the workers did not listen within ${WORKER_READY_MS} ms`), WORKER_READY_MS);
  const ready = await Promise.all(workers.map((worker) => ask(worker, null, 'listening')));
  clearTimeout(timer);
  const report = async (collect: boolean): Promise<ServerCounts> => {
    const all = await Promise.all([localReport(collect), ...workers.map((worker) => ask(worker, { type: 'report', collect }, 'report'))]);
    return all.reduce((sum, one) => ({ open: sum.open + one.open, closed: sum.closed + one.closed, messages: sum.messages + one.messages, heapUsed: sum.heapUsed + one.heapUsed }));
  };
  // The workers' sockets are theirs: the primary relays the broadcast, with the driver's send time in it.
  const broadcast = async (payload: Buffer): Promise<number> => {
    const sequence = payload.readUInt32LE(BROADCAST_SEQUENCE_OFFSET);
    const sentAt = payload.readDoubleLE(BROADCAST_TIME_OFFSET);
    const answers = await Promise.all(workers.map((worker) => ask(worker, { type: 'broadcast', sequence, sentAt }, 'broadcasted')));
    return answers.reduce((sum, answer) => sum + answer.sent, 0);
  };
  serve({ report, broadcast }, [process.pid, ...ready.flatMap((answer) => answer.pids)]);
}

if (cluster.isPrimary) startPrimary().catch((error: unknown) => fail(`ws primary: ${(error as Error).message}`));
else startWorker();
