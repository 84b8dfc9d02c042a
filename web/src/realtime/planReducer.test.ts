import { describe, expect, it } from "vitest";
import { event, executionEvents, makePlan } from "../test/planFixture";
import { applyPlanEvents, emptyMeta, latestEvent } from "./planReducer";
import type { LiveEvent } from "./events";

function taskStatuses(plan: ReturnType<typeof makePlan>) {
  return plan.phases.flatMap((phase) => phase.milestones.flatMap((milestone) => milestone.tasks.map((task) => task.status)));
}

/** A deterministic shuffle so a failure can be reproduced. */
function shuffle<T>(items: readonly T[], seed: number): T[] {
  const result = [...items];
  let state = seed;
  for (let index = result.length - 1; index > 0; index -= 1) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const other = state % (index + 1);
    [result[index], result[other]] = [result[other] as T, result[index] as T];
  }
  return result;
}

function applyInBatches(events: readonly LiveEvent[], batchSize: number) {
  let state = { plan: makePlan(30), meta: emptyMeta };
  for (let start = 0; start < events.length; start += batchSize) {
    state = applyPlanEvents(state.plan, state.meta, events.slice(start, start + batchSize));
  }
  return state;
}

describe("applyPlanEvents", () => {
  const events = executionEvents(30, (number) => (number % 7 === 0 ? "failed" : "completed"));

  it("applies an execution run in order", () => {
    const { plan, meta } = applyPlanEvents(makePlan(30), emptyMeta, events);
    expect(plan.status).toBe("completed");
    expect(plan.workspace_path).toBe("/tmp/ws-1");
    expect(plan.current_wave).toBe(3);
    expect(plan.completed_tasks).toBe(26);
    expect(plan.failed_tasks).toBe(4);
    expect(plan.actual_cost_usd).toBeCloseTo(0.3);
    expect(taskStatuses(plan).filter((status) => status === "failed")).toHaveLength(4);
    expect(meta.lastSeq).toBe(events.length);
    expect(meta.log.map((item) => item.seq)).toEqual(events.map((item) => item.seq));
  });

  it("ends in the same state whatever the delivery order, batching and replays", () => {
    const expected = applyPlanEvents(makePlan(30), emptyMeta, events);
    for (const seed of [1, 2, 3, 42, 1000]) {
      const replayed = [...shuffle(events, seed), ...shuffle(events.slice(10, 40), seed + 1)];
      for (const batchSize of [1, 5, 17, replayed.length]) {
        const result = applyInBatches(replayed, batchSize);
        expect(result.plan).toEqual(expected.plan);
        expect(result.meta).toEqual(expected.meta);
      }
    }
  });

  it("keeps the newest value of a field when an older event arrives late", () => {
    const running = event(5, "task_execution_progress", { task_id: "task-1", status: "in_progress" });
    const done = event(9, "task_execution_complete", { task_id: "task-1", status: "completed", output_files: ["a.py"] });
    const { plan } = applyPlanEvents(makePlan(3), emptyMeta, [done, running]);
    const task = plan.phases[0]?.milestones[0]?.tasks[0];
    expect(task?.status).toBe("completed");
    expect(task?.modified_files).toEqual(["a.py"]);
  });

  it("finds tasks by number when the id is missing and ignores unknown tasks", () => {
    const { plan } = applyPlanEvents(makePlan(3), emptyMeta, [
      event(1, "task_execution_progress", { task_number: 2, status: "in_progress" }),
      event(2, "task_execution_progress", { task_id: "nope", status: "failed" }),
      event(3, "task_execution_progress", { task_id: "task-3", status: "not-a-status" }),
    ]);
    expect(taskStatuses(plan)).toEqual(["pending", "in_progress", "pending"]);
  });

  it("keeps untouched milestones and tasks as the same objects", () => {
    const before = makePlan(30);
    const { plan } = applyPlanEvents(before, emptyMeta, [event(1, "task_execution_progress", { task_id: "task-1", status: "in_progress" })]);
    expect(plan.phases[0]?.milestones[0]).not.toBe(before.phases[0]?.milestones[0]);
    expect(plan.phases[1]).toBe(before.phases[1]);
    expect(plan.phases[0]?.milestones[0]?.tasks[1]).toBe(before.phases[0]?.milestones[0]?.tasks[1]);
  });

  it("returns the newest event of a type", () => {
    const { meta } = applyPlanEvents(makePlan(3), emptyMeta, [
      event(4, "gate_validation_result", { gate_passed: false }),
      event(2, "gate_validation_result", { gate_passed: true }),
    ]);
    expect(latestEvent(meta.log, "gate_validation_result")?.data.gate_passed).toBe(false);
  });
});
