/**
 * The chat example, run as a user would (the built CLI in a child
 * process), with the `ws` package's clients: rooms are paths, a text
 * message reaches every other member of its room unchanged and no one
 * else, a binary message is refused with 1003.
 */
import t from 'tap';
import { startExample } from '../helpers/example.js';
import { closeOf, nextMessage, open } from '../helpers/ws.js';

t.test('chat: rooms as paths, messages to the other members only', async (t) => {
  const example = await startExample(['chat']);
  t.match(example.readyLine, /listening on ws:\/\/127\.0\.0\.1:\d+/);
  const base = `ws://127.0.0.1:${example.port}`;
  const [alice, bob, carol, dave] = await Promise.all([open(`${base}/lobby`), open(`${base}/lobby`), open(`${base}/lobby`), open(`${base}/other`)]);
  const text = 'héllo, wörld ✓';
  alice!.send(text);
  for (const member of [bob!, carol!]) {
    const got = await nextMessage(member);
    t.equal(got.data.toString(), text, 'unchanged');
    t.equal(got.isBinary, false);
  }
  dave!.send('only me here');
  bob!.send('from bob');
  t.equal((await nextMessage(alice!)).data.toString(), 'from bob', 'the sender is skipped: alice gets bob, not her own');
  t.equal((await nextMessage(carol!)).data.toString(), 'from bob');
  const refused = closeOf(dave!);
  dave!.send(Buffer.from([1, 2, 3]));
  t.equal((await refused).code, 1003);
  for (const client of [alice!, bob!, carol!]) client.close();
  t.equal(await example.stop(), 0);
});
