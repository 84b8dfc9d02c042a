import { act, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router-dom";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FakeRealtime, renderWithProviders } from "../test/render";
import { BATCH_MS } from "../realtime/useMasterplanEvents";
import { ChatPage } from "./ChatPage";

const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });

/** A tiny in-memory conversation API behind fetch. */
function stubApi() {
  const messages: unknown[] = [];
  const calls: string[] = [];
  vi.stubGlobal("fetch", async (request: Request) => {
    const { pathname } = new URL(request.url);
    calls.push(`${request.method} ${pathname}`);
    if (pathname === "/api/v1/conversations" && request.method === "POST") return json({ id: "c1", title: "", created_at: "", updated_at: "" });
    if (pathname === "/api/v1/conversations") return json({ items: [] });
    if (pathname === "/api/v1/conversations/c1/messages" && request.method === "POST") {
      const { content } = (await request.json()) as { content: string };
      const message = { id: `m${messages.length}`, role: "user", content, masterplan_id: null, generation_id: null, created_at: "" };
      messages.push(message);
      return json({ message, masterplan_id: null, generation_id: "g1" });
    }
    if (pathname === "/api/v1/conversations/c1/messages") return json({ items: messages });
    return new Response("{}", { status: 404 });
  });
  return calls;
}

describe("ChatPage", () => {
  beforeEach(() => vi.useFakeTimers({ shouldAdvanceTime: true }));
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it("starts a generation from /masterplan and follows it to a link to the plan", async () => {
    const calls = stubApi();
    const realtime = new FakeRealtime();
    renderWithProviders(
      <Routes>
        <Route path="*" element={<ChatPage />} />
        <Route path="/chat/:conversationId" element={<ChatPage />} />
      </Routes>,
      { realtime },
    );
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
    await user.type(screen.getByRole("textbox", { name: "Message" }), "/masterplan a todo REST API{Enter}");

    const dialog = await screen.findByRole("dialog", { name: "Generating a masterplan" });
    await vi.waitFor(() => expect(calls).toContain("POST /api/v1/conversations/c1/messages"));
    await vi.waitFor(() => expect(realtime.rooms.map((room) => [room.kind, room.id])).toEqual([["conversation", "c1"]]));

    const emit = (seq: number, type: string, extra: Record<string, unknown> = {}) =>
      realtime.emit(type, { conversation_id: "c1", generation_id: "g1", seq, timestamp: "", trace_id: "", ...extra });
    act(() => {
      emit(1, "discovery_start");
      emit(2, "discovery_complete", { domain: "task management" });
      emit(3, "masterplan_tokens_progress", { tokens: 640 });
      emit(4, "message_chunk", { message_id: "m9", delta: "Planning your " });
      emit(5, "message_chunk", { message_id: "m9", delta: "project…" });
    });
    await act(() => vi.advanceTimersByTimeAsync(BATCH_MS));
    expect(within(dialog).getByTestId("token-counter")).toHaveTextContent("640");
    expect(screen.getByText("Planning your project…")).toBeInTheDocument();
    expect(within(dialog).queryByRole("link", { name: "Open the plan" })).toBeNull();

    act(() => emit(6, "masterplan_generation_complete", { masterplan_id: "p7", tokens: 900 }));
    await act(() => vi.advanceTimersByTimeAsync(BATCH_MS));
    expect(within(dialog).getByRole("link", { name: "Open the plan" })).toHaveAttribute("href", "/plans/p7");
  });
});
