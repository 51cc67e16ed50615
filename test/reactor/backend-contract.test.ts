// The Backend interface as a contract both siblings keep: every member is
// called directly on each backend (epoll in ET and one-shot, io_uring
// where it works), including the ones a reactor on that backend does not
// reach in its own turns (io_uring's readiness accept, splice, the ET
// debug check's FIONREAD, one-shot's re-arm), so a third backend has one
// file to pass.
import t from 'tap';
import { writeSync } from 'node:fs';
import { createBackend } from '../../packages/reactor/src/backend/create.js';
import { ioUringSupport } from '../../packages/reactor/src/backend/io-uring-support.js';
import { connectTcp, listenTcp, pipe, socketPair } from '../../packages/reactor/src/backend/sockets.js';
import { READY_READABLE, type Owner, type OwnerKind } from '../../packages/reactor/src/backend/backend.js';
import { BufferPool } from '../../packages/reactor/src/buffer-pool.js';
import { EAGAIN } from '../../packages/reactor/src/errno.js';
import type { BackendName } from '../../packages/reactor/src/backend/backend.js';
import type { Mode } from '../../packages/reactor/src/backend/policies.js';
import { trackFds } from '../helpers/fds.js';
import { until } from '../helpers/wait.js';

const EVENTS = 64;
const BACKENDS: ReadonlyArray<readonly [BackendName, Mode]> = [['epoll', 'et'], ['epoll', 'oneshot'], ...(ioUringSupport().available ? [['io_uring', 'lt'] as const] : [])];

/** An owner that records what its backend tells it. */
function recorder(fd: number, takesBytes?: boolean): Owner & { readonly seen: number[] } {
  const seen: number[] = [];
  const owner = { fd, slot: null, seen, ready: (bits: number) => void seen.push(bits), fail: () => {}, ...(takesBytes === undefined ? {} : { takesBytes }) };
  return owner;
}

for (const [name, mode] of BACKENDS) {
  t.test(`${name} (${mode}): accept, receive, splice, bytesWaiting, shutdownWrite and closeFd answer as the interface says`, async (t) => {
    const fds = trackFds();
    const backend = createBackend(name, mode, EVENTS, new BufferPool());
    const listener = listenTcp();
    const accepted = new Int32Array(4);
    t.equal(backend.accept(listener.fd, accepted), EAGAIN, 'nothing pending: EAGAIN, a value');
    const client = connectTcp('127.0.0.1', listener.port);
    let count = 0;
    await until(() => (count = backend.accept(listener.fd, accepted)) > 0, 'the connection to be accepted');
    t.equal(count, 1, 'one connection accepted');
    const [a, b] = socketPair();
    writeSync(a, Buffer.from('hello'));
    t.equal(backend.bytesWaiting(b), 5, 'FIONREAD: 5 bytes waiting');
    const [pipeRead, pipeWrite] = pipe();
    t.equal(backend.splice(b, pipeWrite, 5), 5, 'spliced from the socket into the pipe');
    const into = new Uint8Array(8);
    t.equal(backend.receive(pipeRead, into, 0, into.length), 5, 'read from the pipe');
    t.equal(Buffer.from(into.subarray(0, 5)).toString(), 'hello');
    t.equal(backend.receive(b, into, 0, into.length), EAGAIN, 'the socket is empty: EAGAIN');
    t.equal(backend.shutdownWrite(a), 0, 'half-closed');
    t.equal(backend.receive(b, into, 0, into.length), 0, 'the peer reads the end of stream');
    for (const fd of [accepted[0]!, client, a, b, pipeRead, pipeWrite, listener.fd]) backend.closeFd(fd);
    backend.close();
    await fds.assertNoneSettled(t);
  });

  t.test(`${name} (${mode}): registration: open, arm, serving and rearm, setListening, forget and release, then close`, async (t) => {
    const fds = trackFds();
    const backend = createBackend(name, mode, EVENTS, new BufferPool());
    const [a, b] = socketPair();
    const stream = recorder(b, false); // reads itself (a relay's splicing): readiness on every backend
    backend.open(stream, 'stream' satisfies OwnerKind);
    t.not(stream.slot, null, 'the backend keeps its record in the slot');
    backend.serving(stream, true);
    backend.rearm(stream, true, false, true);
    backend.serving(stream, false);
    backend.arm(stream, true, false, true);
    writeSync(a, Buffer.from('x'));
    let items = 0;
    await until(() => {
      items = backend.wait(0);
      for (let index = 0; index < items; index += 1) {
        const owner = backend.ownerAt(index);
        if (owner !== undefined) backend.deliver(owner, index);
      }
      return stream.seen.some((bits) => (bits & READY_READABLE) !== 0);
    }, 'the stream to be reported readable');
    t.ok(stream.seen.length > 0, `readiness told: ${stream.seen.join(', ')}`);
    t.equal(backend.batchDone(), 0, 'no follow-on batch without completions');
    const listener = listenTcp();
    const server = recorder(listener.fd);
    backend.open(server, 'listener');
    backend.setListening(server, false);
    backend.setListening(server, true);
    const connecting = recorder(connectTcp('127.0.0.1', listener.port));
    backend.open(connecting, 'connecting');
    backend.forget(connecting); // a connect hands its fd on
    backend.closeFd(connecting.fd);
    t.ok(backend.owners().includes(stream) && backend.owners().includes(server), 'the registered owners are listed');
    backend.release(stream);
    backend.release(server);
    t.notOk(backend.owners().includes(stream), 'a released owner is not');
    backend.beginTurn();
    while (backend.endTurn() > 0) backend.batchDone(); // what the releases queued goes out
    backend.unref(); // the process may exit with owners registered ...
    backend.ref(); // ... or not (the default)
    const stats = backend.stats();
    t.ok(stats.syscalls.epollWait > 0, 'system calls counted');
    t.equal(stats.ring === null, name === 'epoll', 'ring counts with io_uring only');
    backend.closeFd(a);
    backend.close();
    backend.close(); // idempotent on io_uring; epoll's poller refuses nothing after close either
    await fds.assertNoneSettled(t);
  });
}
