/** zepoll/fetch: a fetch-style server (`fetch(Request) → Response`) that runs Hono and similar apps, with Bun's WebSockets. */
export { serve, SERVE_PORT_DEFAULT } from './serve.js';
export type { FetchHandler, FetchHttpOptions, FetchServer, ServeOptions } from './serve.js';
export { fileResponse } from './file-response.js';
export type { FileResponseInit } from './file-response.js';
export { BACKPRESSURE_LIMIT_DEFAULT, IDLE_TIMEOUT_S_DEFAULT } from './websocket.js';
export type { WebSocketHandler, WebSocketUpgradeOptions } from './websocket.js';
export { ServerWebSocket, SEND_STATUS_BACKPRESSURE, SEND_STATUS_DROPPED } from './server-websocket.js';
export type { WebSocketBinaryType, WebSocketData, WebSocketReadyState } from './server-websocket.js';
