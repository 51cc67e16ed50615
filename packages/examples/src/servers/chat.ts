/**
 * WebSocket chat rooms: a client that connects to ws://host:port/ROOM
 * joins room ROOM (a topic); each text message it sends reaches every
 * other member of the room unchanged (publish skips the sender), encoded
 * once for all of them. Binary messages are refused with 1003.
 */
import type { Reactor, Server } from 'zepoll';
import { CLOSE_UNSUPPORTED_DATA, createWebSocketServer, type WebSocketServerOptions } from 'zepoll/ws';

/** What a chat socket keeps: its room. */
interface Member {
  readonly room: string;
}

export function startChat(reactor: Reactor, options: WebSocketServerOptions<Member>): Server {
  const { server } = createWebSocketServer<Member>(
    reactor,
    {
      upgrade: (request) => ({ room: decodeURIComponent(request.path.slice(1)) }),
      open: (ws) => void ws.subscribe(ws.data.room),
      message(ws, data, isBinary) {
        if (isBinary) {
          ws.end(CLOSE_UNSUPPORTED_DATA, 'text only');
          return;
        }
        ws.publish(ws.data.room, data, false);
      },
    },
    options,
  );
  return server;
}
