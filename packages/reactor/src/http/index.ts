/** zepoll/http: a strict HTTP/1.1 layer on the reactor. */
export { createHttpServer, HEADERS_TIMEOUT_MS_DEFAULT, KEEP_ALIVE_TIMEOUT_MS_DEFAULT, REQUEST_TIMEOUT_MS_DEFAULT } from './server.js';
export type { HttpHandler, HttpServerOptions } from './server.js';
export { HttpRequest } from './request.js';
export { HttpResponse } from './response.js';
export type { HeaderValue } from './response.js';
export { BODY_HIGH_WATER_MARK } from './body-stream.js';
export { HttpParseError, RequestParser } from './parser.js';
export type { ParserCallbacks } from './parser.js';
export { BODY_SIZE_MAX, HEADERS_COUNT_MAX, HEADERS_SIZE_MAX, REQUEST_LINE_SIZE_MAX } from './limits.js';
export type { HttpLimits } from './limits.js';
