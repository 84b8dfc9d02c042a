import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { PLAN_STATUSES } from "../api/statuses";
import type { MasterplanStatus } from "../api/types";
import { makePlan } from "../test/planFixture";
import { PlanHeader } from "./PlanHeader";

const EXPECTED: Record<MasterplanStatus, string[]> = {
  draft: ["Approve", "Reject"],
  approved: ["Execute"],
  rejected: [],
  in_progress: ["Pause", "Cancel execution"],
  paused: ["Resume", "Cancel execution"],
  completed: [],
  failed: [],
  cancelled: [],
};

function actionButtons(): string[] {
  const buttons = screen.getByRole("group", { name: "Plan actions" }).querySelectorAll("button");
  return Array.from(buttons, (button) => button.textContent ?? "");
}

describe("PlanHeader", () => {
  it.each(PLAN_STATUSES)("shows only the actions a %s plan allows", (status) => {
    render(<PlanHeader plan={makePlan(3, { status })} busy={false} error={null} onAction={() => undefined} />);
    expect(actionButtons()).toEqual(EXPECTED[status]);
  });

  it("asks for a reason before rejecting", async () => {
    const onAction = vi.fn();
    render(<PlanHeader plan={makePlan(3, { status: "draft" })} busy={false} error={null} onAction={onAction} />);
    await userEvent.click(screen.getByRole("button", { name: "Reject" }));
    const confirm = screen.getByRole("button", { name: "Confirm rejection" });
    expect(confirm).toBeDisabled();
    await userEvent.type(screen.getByLabelText("Reason for rejecting"), "Too vague");
    await userEvent.click(confirm);
    expect(onAction).toHaveBeenCalledWith("reject", "Too vague");
  });

  it("asks for confirmation before cancelling", async () => {
    const onAction = vi.fn();
    render(<PlanHeader plan={makePlan(3, { status: "in_progress" })} busy={false} error={null} onAction={onAction} />);
    await userEvent.click(screen.getByRole("button", { name: "Cancel execution" }));
    expect(onAction).not.toHaveBeenCalled();
    await userEvent.click(screen.getByRole("button", { name: "Yes, cancel" }));
    expect(onAction).toHaveBeenCalledWith("cancel");
  });

  it("approves and executes in one click", async () => {
    const onAction = vi.fn();
    const { rerender } = render(<PlanHeader plan={makePlan(3, { status: "draft" })} busy={false} error={null} onAction={onAction} />);
    await userEvent.click(screen.getByRole("button", { name: "Approve" }));
    rerender(<PlanHeader plan={makePlan(3, { status: "approved" })} busy={false} error={null} onAction={onAction} />);
    await userEvent.click(screen.getByRole("button", { name: "Execute" }));
    expect(onAction.mock.calls).toEqual([["approve"], ["execute"]]);
  });
});
