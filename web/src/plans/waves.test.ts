import { describe, expect, it } from "vitest";
import { makePlan } from "../test/planFixture";
import { dependencyWaves } from "./waves";

const tasksOf = (taskCount: number) => makePlan(taskCount).phases.flatMap((phase) => phase.milestones.flatMap((milestone) => milestone.tasks));

describe("dependencyWaves", () => {
  it("puts each task one wave after its latest dependency", () => {
    // In the fixture a milestone is a chain: 2 needs 1, 3 needs 2.
    const numbers = (tasks: ReturnType<typeof tasksOf>) => dependencyWaves(tasks).map((wave) => wave.map((task) => task.task_number));
    const chain = tasksOf(9).slice(0, 3);
    expect(numbers(chain)).toEqual([[1], [2], [3]]);
    const joined = chain.map((task) => (task.task_number === 3 ? { ...task, depends_on: [1] } : task));
    expect(numbers(joined)).toEqual([[1], [2, 3]]);
  });

  it("survives cycles and unknown dependencies", () => {
    const [first, second] = tasksOf(2);
    if (!first || !second) throw new Error("fixture");
    const waves = dependencyWaves([
      { ...first, depends_on: [2, 99] },
      { ...second, depends_on: [1] },
    ]);
    expect(waves.flat()).toHaveLength(2);
  });
});
