/**
 * uWebSockets.js (the npm package `@rjweb/uws`, an optional dependency
 * that ships Linux binaries for Node 20) serving the http example's GET /
 * ("hello world", Content-Type text/plain) and 404 otherwise: the peer the
 * issue names. Prints "port N", and on SIGUSR2 its garbage figures; exits 3 with one line when the package
 * cannot be loaded on this platform, so the bench can leave it out.
 */
import { createRequire } from 'node:module';
import { reportOnSignal } from './gc-watch.js';

/** The part of uWS.js's API this server uses (the package's own types are optional too). */
interface UwsResponse {
  writeStatus(status: string): UwsResponse;
  writeHeader(name: string, value: string): UwsResponse;
  end(body: string): UwsResponse;
}
interface UwsRequest {
  getMethod(): string;
  getUrl(): string;
}
interface UwsApp {
  any(pattern: string, handler: (response: UwsResponse, request: UwsRequest) => void): UwsApp;
  listen(host: string, port: number, done: (token: unknown) => void): UwsApp;
}
interface UwsModule {
  App(): UwsApp;
  getSocketPort(token: unknown): number;
}

/** Exit status meaning "uWS.js is not available here" (not a failure of the run). */
export const UWS_MISSING_EXIT = 3;
const UWS_PACKAGE = '@rjweb/uws';
const HELLO = 'hello world';

function load(): UwsModule | null {
  try {
    return createRequire(import.meta.url)(UWS_PACKAGE) as UwsModule;
  } catch (error) {
    process.stderr.write(`uws: ${UWS_PACKAGE} cannot be loaded here (${(error as Error).message.split('\n')[0]})\n`);
    return null;
  }
}

const uws = load();
if (uws === null) process.exit(UWS_MISSING_EXIT);
// `--check`: only whether the package loads here (the bench asks before a run).
if (process.argv[2] === '--check') process.exit(0);
reportOnSignal(() => null); // garbage figures only
uws
  .App()
  .any('/*', (response, request) => {
    // uWS lower-cases the method; "hello world" for GET / as the other servers.
    if (request.getUrl() === '/' && request.getMethod() === 'get') {
      response.writeHeader('Content-Type', 'text/plain').end(HELLO);
      return;
    }
    response.writeStatus('404 Not Found').writeHeader('Content-Type', 'text/plain').end('not found\n');
  })
  .listen('127.0.0.1', 0, (token) => {
    if (!token) {
      process.stderr.write('uws: listen failed\n');
      process.exit(1);
    }
    process.stdout.write(`port ${uws.getSocketPort(token)}\n`);
  });
process.once('SIGTERM', () => process.exit(0));
