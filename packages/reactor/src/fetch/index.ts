/** zepoll/fetch: a fetch-style server (`fetch(Request) → Response`) that runs Hono and similar apps. */
export { serve, SERVE_PORT_DEFAULT } from './serve.js';
export type { FetchHandler, FetchHttpOptions, FetchServer, ServeOptions } from './serve.js';
export { fileResponse } from './file-response.js';
export type { FileResponseInit } from './file-response.js';
