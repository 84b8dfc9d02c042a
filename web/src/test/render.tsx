import { QueryClientProvider, type QueryClient } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { MemoryRouter } from "react-router-dom";
import { createQueryClient } from "../App";
import type { EventListener, Realtime, Room } from "../realtime/client";
import { RealtimeProvider } from "../realtime/RealtimeContext";

/** An in-memory Realtime: tests push server events and inspect the rooms joined. */
export class FakeRealtime implements Realtime {
  readonly rooms: Room[] = [];
  private readonly listeners = new Set<EventListener>();

  emit(type: string, payload: Record<string, unknown>): void {
    for (const listener of this.listeners) listener(type, payload);
  }
  onEvent(listener: EventListener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  onConnection(listener: (connected: boolean) => void) {
    listener(true);
    return () => undefined;
  }
  join(room: Room) {
    this.rooms.push(room);
    return () => this.rooms.splice(this.rooms.indexOf(room), 1);
  }
  open(): void {}
  close(): void {}
}

export function renderWithProviders(ui: ReactElement, options: { queryClient?: QueryClient; realtime?: Realtime } = {}) {
  const queryClient = options.queryClient ?? createQueryClient();
  const realtime = options.realtime ?? new FakeRealtime();
  const result = render(
    <QueryClientProvider client={queryClient}>
      <RealtimeProvider realtime={realtime}>
        <MemoryRouter>{ui}</MemoryRouter>
      </RealtimeProvider>
    </QueryClientProvider>,
  );
  return { ...result, queryClient, realtime };
}
