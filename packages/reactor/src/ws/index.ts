/** zepoll/ws: RFC 6455 WebSockets on the reactor: servers (upgraded from zepoll/http), topics, and a client. */
export { createWebSocketServer, WebSocketHub, WS_IDLE_TIMEOUT_MS_DEFAULT } from './server.js';
export type { WebSocketServer, WebSocketServerBehavior, WebSocketServerOptions } from './server.js';
export { connectWebSocket, HANDSHAKE_TIMEOUT_MS_DEFAULT } from './client.js';
export type { WebSocketClientOptions } from './client.js';
export { WebSocket, SEND_BACKPRESSURE, SEND_DROPPED, SEND_SUCCESS } from './socket.js';
export type { SendStatus, WebSocketMessage } from './socket.js';
export { CLOSE_TIMEOUT_MS_DEFAULT, MAX_BACKPRESSURE_DEFAULT } from './behavior.js';
export type { WebSocketBehavior, WebSocketHandlerResult, WebSocketOptions } from './behavior.js';
export { RESPONSE_HEAD_SIZE_MAX } from './client-handshake.js';
export { DEFLATE_THRESHOLD_DEFAULT, MESSAGE_SIZE_MAX } from './limits.js';
export type { PerMessageDeflateOptions } from './deflate-options.js';
export { WebSocketHandshakeError } from './handshake-error.js';
export { WebSocketProtocolError } from './protocol-error.js';
export {
  CLOSE_ABNORMAL,
  CLOSE_BAD_GATEWAY,
  CLOSE_GOING_AWAY,
  CLOSE_INTERNAL_ERROR,
  CLOSE_INVALID_PAYLOAD,
  CLOSE_MANDATORY_EXTENSION,
  CLOSE_MESSAGE_TOO_BIG,
  CLOSE_NO_STATUS,
  CLOSE_NORMAL,
  CLOSE_POLICY_VIOLATION,
  CLOSE_PROTOCOL_ERROR,
  CLOSE_SERVICE_RESTART,
  CLOSE_TLS_HANDSHAKE,
  CLOSE_TRY_AGAIN_LATER,
  CLOSE_UNSUPPORTED_DATA,
} from './close.js';
export { FrameParser } from './frame-parser.js';
export type { FrameHandler, FrameParserOptions } from './frame-parser.js';
export { FrameEncoder } from './frame-encoder.js';
export { acceptKey, checkUpgradeRequest, isUpgradeRequest, upgradeResponseHeaders } from './handshake.js';
export type { UpgradeRequestHead, WebSocketUpgrade } from './handshake.js';
export { OPCODE_BINARY, OPCODE_CLOSE, OPCODE_CONTINUATION, OPCODE_PING, OPCODE_PONG, OPCODE_TEXT } from './wire.js';
export type { Opcode, WebSocketRole } from './wire.js';
export type { ExtensionOffer, ExtensionParam } from './extensions.js';
export type { MaskKeySource } from './mask.js';
