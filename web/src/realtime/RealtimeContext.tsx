import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import type { Realtime } from "./client";

const RealtimeContext = createContext<Realtime | null>(null);

export function RealtimeProvider({ realtime, children }: { realtime: Realtime; children: ReactNode }) {
  return <RealtimeContext.Provider value={realtime}>{children}</RealtimeContext.Provider>;
}

export function useRealtime(): Realtime {
  const realtime = useContext(RealtimeContext);
  if (!realtime) throw new Error("useRealtime needs a RealtimeProvider");
  return realtime;
}

export function useConnected(): boolean {
  const realtime = useRealtime();
  const [connected, setConnected] = useState(false);
  useEffect(() => realtime.onConnection(setConnected), [realtime]);
  return connected;
}
