/**
 * zepoll/hono: Hono's WebSocket helper for apps served by zepoll/fetch
 * (`upgradeWebSocket` for routes, `websocket` for serve()), typed with
 * Hono's own types and importing nothing of Hono at run time.
 */
export { createZepollWebSocket, upgradeWebSocket, websocket } from './websocket.js';
export type { HonoServerWebSocket, HonoWebSocketData, HonoWebSocketHelpers } from './websocket.js';
