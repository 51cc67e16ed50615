/**
 * The CLI contract of `zepoll-examples`: the ready line with the real port
 * (port 0), --help, bad options (message and usage, exit 2), SIGTERM and
 * SIGINT (graceful, exit 0), and --workers with --pin.
 */
import t from 'tap';
import { runCli, startExample, program } from '../helpers/example.js';

t.test('the ready line names the scheme, host and the real port', async (t) => {
  for (const [name, scheme, extra] of [['echo', 'tcp', []], ['http', 'http', []], ['resp', 'redis', []], ['chat', 'ws', []], ['static', 'http', ['--root', '.']], ['proxy', 'tcp', ['--upstream', '127.0.0.1:9']]] as const) {
    const example = await startExample([name, '--port', '0', ...extra]);
    t.equal(example.scheme, scheme, `${name}: ${example.readyLine}`);
    t.equal(example.host, '127.0.0.1', 'binds 127.0.0.1 by default');
    t.ok(example.port > 0 && example.port < 65536, 'a real port');
    t.equal(await example.stop('SIGTERM'), 0, `${name}: SIGTERM exits 0`);
  }
});

t.test('SIGINT closes gracefully too; modes are accepted', async (t) => {
  for (const mode of ['lt', 'et', 'oneshot']) {
    const example = await startExample(['http', '--mode', mode, '--quota', 'Infinity', '--idle-timeout', '5000']);
    t.match(example.readyLine, new RegExp(`mode ${mode}`));
    const reply = program('curl', ['-s', `http://127.0.0.1:${example.port}/`]);
    t.equal(reply.stdout, 'hello world', `${mode}: answers`);
    t.equal(await example.stop('SIGINT'), 0, `${mode}: SIGINT exits 0`);
  }
});

t.test('--backend io_uring (and auto): the http example on the io_uring backend, with workers too', async (t) => {
  for (const args of [['--backend', 'io_uring'], ['--backend', 'auto', '--workers', '2']]) {
    const example = await startExample(['http', ...args]);
    t.match(example.readyLine, /backend (io_uring|auto)/, example.readyLine);
    for (let request = 0; request < 5; request += 1) t.equal(program('curl', ['-s', `http://127.0.0.1:${example.port}/`]).stdout, 'hello world', `${args.join(' ')}: answers`);
    t.equal(await example.stop('SIGTERM'), 0, 'SIGTERM exits 0');
  }
});

t.test('--workers 2 --pin: two reactors serve one port', async (t) => {
  const example = await startExample(['http', '--workers', '2', '--pin']);
  t.match(example.readyLine, /2 workers/);
  let answered = 0;
  for (let request = 0; request < 20; request += 1) if (program('curl', ['-s', `http://127.0.0.1:${example.port}/json`]).stdout.includes('hello world')) answered += 1;
  t.equal(answered, 20);
  t.equal(await example.stop(), 0, 'the group closes and the process exits 0');
});

t.test('the installed command runs: node_modules/.bin/zepoll-examples --help', (t) => {
  const result = program('node_modules/.bin/zepoll-examples', ['--help']);
  t.equal(result.status, 0);
  t.match(result.stdout, /usage: zepoll-examples <name>/);
  t.end();
});

t.test('--help prints the usage; bad options print what is wrong and the usage, exit 2', (t) => {
  const help = runCli(['--help']);
  t.equal(help.status, 0);
  t.match(help.stdout, /usage: zepoll-examples <name>/);
  const bad: Array<[string[], RegExp]> = [
    [[], /no example named/],
    [['nope'], /unknown example "nope"/],
    [['echo', 'http'], /one example at a time/],
    [['echo', '--mode', 'edge'], /--mode must be lt, et or oneshot/],
    [['echo', '--backend', 'kqueue'], /--backend must be epoll, io_uring or auto/],
    [['echo', '--port', '70000'], /--port must be an integer from 0 to 65535/],
    [['echo', '--port', 'abc'], /--port must be an integer/],
    [['echo', '--quota', '0'], /--quota must be an integer/],
    [['echo', '--bogus'], /Unknown option '--bogus'/],
    [['static'], /static needs --root/],
    [['echo', '--root', '.'], /--root is for static only/],
    [['proxy'], /proxy needs --upstream/],
    [['proxy', '--upstream', 'nohost'], /proxy needs --upstream/],
    [['echo', '--upstream', '127.0.0.1:1'], /--upstream is for proxy only/],
    [['echo', '--pin'], /--pin needs --workers/],
    [['echo', '--workers=-1'], /--workers must be an integer/],
    [['echo', '--workers', '-1'], /Option '--workers' argument is ambiguous/],
    [['echo', '--headers-timeout', '1000'], /--headers-timeout is for http and static only/],
    [['http', '--headers-timeout', '2147483648'], /--headers-timeout must be an integer from 0 to 2147483647/],
  ];
  for (const [args, message] of bad) {
    const result = runCli(args);
    t.equal(result.status, 2, `${args.join(' ') || '(nothing)'}: exit 2`);
    t.match(result.stderr, message);
    t.match(result.stderr, /usage: zepoll-examples/);
  }
  t.end();
});
