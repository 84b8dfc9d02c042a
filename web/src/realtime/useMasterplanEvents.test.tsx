import { act, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { MasterplanDetail } from "../api/types";
import { planKeys } from "../plans/keys";
import { PlanView } from "../plans/PlanDetailPage";
import { makePlan } from "../test/planFixture";
import { FakeRealtime, renderWithProviders } from "../test/render";
import { BATCH_MS, useMasterplanEvents } from "./useMasterplanEvents";
import { usePlan } from "../plans/queries";
import { createQueryClient } from "../App";

function LivePlan({ id }: { id: string }) {
  const plan = usePlan(id);
  const log = useMasterplanEvents(id, plan.data !== undefined);
  return plan.data ? <PlanView plan={plan.data} log={log} /> : null;
}

function payload(seq: number, extra: Record<string, unknown>) {
  return { masterplan_id: "plan-1", seq, timestamp: "2025-01-01T00:00:00Z", trace_id: "t", ...extra };
}

describe("useMasterplanEvents", () => {
  beforeEach(() => vi.useFakeTimers({ shouldAdvanceTime: true }));
  afterEach(() => vi.useRealTimers());

  function setup() {
    const realtime = new FakeRealtime();
    const queryClient = createQueryClient();
    queryClient.setQueryData(planKeys.detail("plan-1"), makePlan(12));
    return { ...renderWithProviders(<LivePlan id="plan-1" />, { realtime, queryClient }), realtime };
  }

  it("joins the plan's room from the last seen seq once the plan is loaded", async () => {
    const { realtime } = setup();
    await screen.findByText("Todo API");
    await vi.waitFor(() => expect(realtime.rooms.map((room) => [room.kind, room.id, room.lastSeq()])).toEqual([["masterplan", "plan-1", 0]]));
    act(() => realtime.emit("wave_execution_start", payload(3, { wave_number: 1 })));
    await act(() => vi.advanceTimersByTimeAsync(BATCH_MS));
    expect(realtime.rooms[0]?.lastSeq()).toBe(3);
  });

  it("ignores events of another stream that carry the plan's id, keeping the plan's seq", async () => {
    const { realtime } = setup();
    await screen.findByText("Todo API");
    act(() => {
      realtime.emit("task_execution_progress", payload(1, { stream: "masterplan:plan-1", task_id: "task-1", status: "in_progress" }));
      realtime.emit("task_execution_progress", payload(40, { stream: "conversation:c-1", task_id: "task-2", status: "failed" }));
    });
    await act(() => vi.advanceTimersByTimeAsync(BATCH_MS));
    expect(screen.getByTestId("task-1")).toHaveAttribute("data-status", "in_progress");
    expect(screen.getByTestId("task-2")).toHaveAttribute("data-status", "pending");
    expect(realtime.rooms[0]?.lastSeq()).toBe(1);
  });

  it("applies a burst of events in one batch and shows tasks turning green", async () => {
    const { realtime, queryClient } = setup();
    await screen.findByText("Todo API");
    act(() => {
      realtime.emit("task_execution_complete", payload(2, { task_id: "task-1", status: "completed", output_files: [] }));
      realtime.emit("task_execution_progress", payload(1, { task_id: "task-1", status: "in_progress" }));
      realtime.emit("task_execution_progress", payload(3, { task_id: "task-2", status: "in_progress" }));
      realtime.emit("task_execution_progress", payload(4, { masterplan_id: "other-plan", task_id: "task-3", status: "failed" }));
    });
    expect(screen.getByTestId("task-1")).toHaveAttribute("data-status", "pending");
    await act(() => vi.advanceTimersByTimeAsync(BATCH_MS));
    expect(screen.getByTestId("task-1")).toHaveAttribute("data-status", "completed");
    expect(screen.getByTestId("task-2")).toHaveAttribute("data-status", "in_progress");
    expect(screen.getByTestId("task-2")).toHaveClass("task--running");
    expect(screen.getByTestId("task-3")).toHaveAttribute("data-status", "pending");
    expect(queryClient.getQueryData<MasterplanDetail>(planKeys.detail("plan-1"))?.completed_tasks).toBe(1);
    expect(screen.getByTestId("progress-count")).toHaveTextContent("1/12");
  });

  it("replays applied events onto a snapshot fetched later, so tasks never move back", async () => {
    const { realtime, queryClient } = setup();
    await screen.findByText("Todo API");
    act(() => realtime.emit("task_execution_complete", payload(7, { task_id: "task-1", status: "completed", output_files: [] })));
    await act(() => vi.advanceTimersByTimeAsync(BATCH_MS));
    // A refetch whose response was read on the server before the event above.
    await act(() => queryClient.fetchQuery({ queryKey: planKeys.detail("plan-1"), queryFn: () => makePlan(12, { description: "refetched" }) }));
    expect(await screen.findByText("refetched")).toBeInTheDocument();
    expect(screen.getByTestId("task-1")).toHaveAttribute("data-status", "completed");
  });

  it("shows the completion notice with the workspace path and a retry button on failed tasks", async () => {
    const { realtime } = setup();
    await screen.findByText("Todo API");
    act(() => {
      realtime.emit("masterplan_execution_start", payload(1, { workspace_id: "w", workspace_path: "/work/ws-7", total_tasks: 12 }));
      realtime.emit("task_execution_complete", payload(2, { task_id: "task-4", status: "failed", error: "tests failed" }));
      realtime.emit("masterplan_status_changed", payload(3, { status: "completed", previous_status: "in_progress" }));
    });
    await act(() => vi.advanceTimersByTimeAsync(BATCH_MS));
    expect(screen.getByTestId("completion-notice")).toHaveTextContent("/work/ws-7");
    act(() => screen.getByTestId("task-4").querySelector("button")?.click());
    expect(screen.getByRole("button", { name: "Retry task #4" })).toBeEnabled();
    expect(screen.getByText("Last error: tests failed")).toBeInTheDocument();
  });
});
