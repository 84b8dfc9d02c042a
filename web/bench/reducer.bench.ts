import { bench, describe } from "vitest";
import { applyPlanEvents, emptyMeta } from "../src/realtime/planReducer";
import { executionEvents, makePlan } from "../src/test/planFixture";

// Mid-run state of a 500-task plan: 1000 events already applied, so the log merge costs what it would live.
const events = executionEvents(500);
const midRun = applyPlanEvents(makePlan(500), emptyMeta, events.slice(0, 1000));
const nextBatch = events.slice(1000, 1005);

describe("event reducer, 500-task plan", () => {
  bench("one 50 ms batch at 100 events/s (5 events)", () => {
    applyPlanEvents(midRun.plan, midRun.meta, nextBatch);
  });
  bench(`replay of a whole run in one batch (${events.length} events)`, () => {
    applyPlanEvents(makePlan(500), emptyMeta, events);
  });
});
