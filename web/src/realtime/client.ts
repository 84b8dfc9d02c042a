import { io, type Socket } from "socket.io-client";

export type EventListener = (type: string, payload: unknown) => void;
export type ConnectionListener = (connected: boolean) => void;

export interface Room {
  kind: "masterplan" | "conversation";
  id: string;
  /** Read at every (re)join so a reconnect replays only what was missed. */
  lastSeq: () => number;
}

/** The app's view of the realtime connection; tests substitute a fake. */
export interface Realtime {
  onEvent(listener: EventListener): () => void;
  onConnection(listener: ConnectionListener): () => void;
  join(room: Room): () => void;
  open(): void;
  close(): void;
}

function joinPayload(room: Room): Record<string, unknown> {
  return { [`${room.kind}_id`]: room.id, last_seq: room.lastSeq() };
}

/**
 * One Socket.IO connection shared by every page, opened by `open()`; every (re)connection sends the
 * current token and rejoins the rooms.
 */
export function createRealtime(token: () => string | null): Realtime {
  const socket: Socket = io({ path: "/socket.io", auth: (send) => send({ token: token() }), autoConnect: false });
  const rooms = new Set<Room>();
  const eventListeners = new Set<EventListener>();
  const connectionListeners = new Set<ConnectionListener>();

  const setConnected = (connected: boolean): void => {
    for (const listener of connectionListeners) listener(connected);
  };
  socket.on("connect", () => {
    for (const room of rooms) socket.emit(`join_${room.kind}`, joinPayload(room));
    setConnected(true);
  });
  socket.on("disconnect", () => setConnected(false));
  socket.onAny((type: string, payload: unknown) => {
    for (const listener of eventListeners) listener(type, payload);
  });

  return {
    onEvent(listener) {
      eventListeners.add(listener);
      return () => eventListeners.delete(listener);
    },
    onConnection(listener) {
      connectionListeners.add(listener);
      listener(socket.connected);
      return () => connectionListeners.delete(listener);
    },
    join(room) {
      rooms.add(room);
      if (socket.connected) socket.emit(`join_${room.kind}`, joinPayload(room));
      return () => {
        rooms.delete(room);
        if (socket.connected) socket.emit(`leave_${room.kind}`, { [`${room.kind}_id`]: room.id });
      };
    },
    open() {
      socket.connect();
    },
    close() {
      socket.disconnect();
    },
  };
}
