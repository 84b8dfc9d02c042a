import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { MasterplanDetail } from "../api/types";
import { makePlan } from "../test/planFixture";
import { renderWithProviders } from "../test/render";
import { planKeys } from "./keys";
import { PlanView } from "./PlanDetailPage";

function openTask(number: number) {
  return userEvent.click(within(screen.getByTestId(`task-${number}`)).getAllByRole("button")[0] as HTMLElement);
}

describe("task editing", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("is offered only while the plan is a draft", async () => {
    renderWithProviders(<PlanView plan={makePlan(9, { status: "approved" })} log={[]} />);
    await openTask(2);
    expect(screen.queryByRole("button", { name: "Edit task" })).toBeNull();
  });

  it("sends an update_task operation and shows the plan the server returns", async () => {
    const draft = makePlan(9, { status: "draft" });
    const bodies: unknown[] = [];
    vi.stubGlobal("fetch", async (request: Request) => {
      bodies.push(await request.json());
      const edited: MasterplanDetail = structuredClone(draft);
      const task = edited.phases[0]?.milestones[0]?.tasks[1];
      if (task) Object.assign(task, { name: "Store todos", depends_on: [] });
      return new Response(JSON.stringify(edited), { status: 200, headers: { "content-type": "application/json" } });
    });
    const { queryClient } = renderWithProviders(<PlanView plan={draft} log={[]} />);
    await openTask(2);
    await userEvent.click(screen.getByRole("button", { name: "Edit task" }));
    const form = screen.getByRole("form", { name: "Edit task #2" });
    await userEvent.clear(within(form).getByLabelText("Name"));
    await userEvent.type(within(form).getByLabelText("Name"), "Store todos");
    await userEvent.clear(within(form).getByLabelText("Depends on (task numbers)"));
    await userEvent.click(within(form).getByRole("button", { name: "Save task" }));

    await vi.waitFor(() => expect(bodies).toHaveLength(1));
    expect(bodies[0]).toEqual({
      operations: [
        { op: "update_task", task: 2, name: "Store todos", description: "Implements part 2", complexity: "medium", depends_on: [], target_files: ["src/module_2.py"] },
      ],
      summary: "Edit task #2",
    });
    await vi.waitFor(() =>
      expect(queryClient.getQueryData<MasterplanDetail>(planKeys.detail("plan-1"))?.phases[0]?.milestones[0]?.tasks[1]?.name).toBe("Store todos"),
    );
  });
});
