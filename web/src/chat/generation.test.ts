import { describe, expect, it } from "vitest";
import type { LiveEvent } from "../realtime/events";
import { initialGeneration, reduceGeneration } from "./generation";

const events: LiveEvent[] = [
  ["discovery_start", {}],
  ["discovery_progress", { message: "Found 3 bounded contexts" }],
  ["discovery_complete", { domain: "task management" }],
  ["masterplan_generation_start", {}],
  ["masterplan_tokens_progress", { tokens: 120 }],
  ["masterplan_tokens_progress", { tokens: 480 }],
  ["masterplan_generation_complete", { masterplan_id: "plan-9", tokens: 512 }],
].map(([type, data], index) => ({ type: type as string, seq: index + 1, timestamp: "", data: data as Record<string, unknown> }));

describe("reduceGeneration", () => {
  it("moves from discovery to planning to a finished plan with a growing token count", () => {
    expect(reduceGeneration(initialGeneration, events.slice(0, 2))).toMatchObject({ stage: "discovery", discoveryNote: "Found 3 bounded contexts" });
    expect(reduceGeneration(initialGeneration, events.slice(0, 6))).toMatchObject({ stage: "planning", tokens: 480, discoveryNote: "task management" });
    expect(reduceGeneration(initialGeneration, events)).toMatchObject({ stage: "complete", tokens: 512, masterplanId: "plan-9" });
  });

  it("keeps a failure and the stage it happened in", () => {
    const failed: LiveEvent = { type: "masterplan_generation_failed", seq: 5, timestamp: "", data: { error: "model refused" } };
    const state = reduceGeneration(initialGeneration, [...events.slice(0, 4), failed]);
    expect(state).toMatchObject({ stage: "planning", error: "model refused" });
  });

  it("ends in the same state whatever the order, batching and replays", () => {
    const expected = reduceGeneration(initialGeneration, events);
    const scrambled = [...events].reverse().concat(events.slice(2, 5));
    let state = initialGeneration;
    for (const event of scrambled) state = reduceGeneration(state, [event]);
    expect(state).toEqual(expected);
  });
});
