import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { makePlan } from "../test/planFixture";
import { renderWithProviders } from "../test/render";
import { planKeys } from "./keys";
import { PlanView } from "./PlanDetailPage";
import { describeOperation, PlanReviewCard } from "./PlanReviewCard";
import type { ReviewIteration } from "./queries";

const ITERATION: ReviewIteration = {
  id: "00000000-0000-0000-0000-000000000001",
  masterplan_id: "plan-1",
  review_type: "refine_descriptions",
  scope: "plan",
  target_id: null,
  status: "open",
  suggestions: [
    { operation: { op: "update_task", task: 3, description: "Done when tested." }, rationale: "Say when the task is done" },
    { operation: { op: "update_plan", description: "Reviewed." }, rationale: "State the review" },
  ],
  applied_indices: [],
  created_at: "2026-11-22T05:00:00Z",
};

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

describe("PlanReviewCard", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("summarises operations in words", () => {
    expect(describeOperation({ op: "update_task", task: 3, description: "x", name: null })).toBe("update task #3: description");
    expect(describeOperation({ op: "update_plan", description: "x" })).toBe("update plan: description");
  });

  it("asks for suggestions, lists them and applies the selected one", async () => {
    const calls: { method: string; url: string; body: unknown }[] = [];
    let iterations: ReviewIteration[] = [];
    vi.stubGlobal("fetch", async (request: Request) => {
      const url = new URL(request.url).pathname;
      const body: unknown = request.method === "GET" ? null : await request.json();
      calls.push({ method: request.method, url, body });
      if (url.endsWith("/review-iterations")) return json(iterations);
      if (url.endsWith("/review")) {
        iterations = [ITERATION];
        return json(ITERATION, 201);
      }
      if (url.endsWith("/apply-suggestions")) return json({ ...ITERATION, status: "applied", applied_indices: [0] });
      return json(makePlan(9, { status: "draft" }));
    });
    const { queryClient } = renderWithProviders(<PlanReviewCard planId="plan-1" />);
    const invalidate = vi.spyOn(queryClient, "invalidateQueries");
    const card = screen.getByRole("region", { name: "LLM review" });
    await within(card).findByText("No review yet.");

    await userEvent.selectOptions(within(card).getByLabelText("Review type"), "add_missing");
    await userEvent.click(within(card).getByRole("button", { name: "Ask for suggestions" }));
    const first = await within(card).findByRole("checkbox", { name: "update task #3: description" });
    expect(within(card).getByRole("checkbox", { name: "update plan: description" })).toBeInTheDocument();
    expect(within(card).getByText("Say when the task is done")).toBeInTheDocument();
    expect(calls.find((call) => call.url.endsWith("/review"))?.body).toEqual({ type: "add_missing", scope: "plan" });

    const applyButton = within(card).getByRole("button", { name: "Apply selected" });
    expect(applyButton).toBeDisabled();
    await userEvent.click(first);
    await userEvent.click(applyButton);

    await vi.waitFor(() => expect(calls.some((call) => call.url.endsWith("/apply-suggestions"))).toBe(true));
    expect(calls.find((call) => call.url.endsWith("/apply-suggestions"))?.body).toEqual({ iteration_id: ITERATION.id, indices: [0] });
    await vi.waitFor(() => expect(within(card).getByRole("checkbox", { name: /update task #3/ })).toBeDisabled());
    expect(within(card).getByRole("checkbox", { name: /update task #3/ })).toBeChecked();
    expect(within(card).getByText("(applied)")).toBeInTheDocument();
    expect(invalidate).toHaveBeenCalledWith({ queryKey: planKeys.detail("plan-1") });
  });

  it("shows a failed request in an alert", async () => {
    vi.stubGlobal("fetch", async (request: Request) =>
      new URL(request.url).pathname.endsWith("/review") ? json({ detail: "reviewer unavailable" }, 503) : json([]),
    );
    renderWithProviders(<PlanReviewCard planId="plan-1" />);
    await screen.findByText("No review yet.");
    await userEvent.click(screen.getByRole("button", { name: "Ask for suggestions" }));
    expect(await screen.findByRole("alert")).toBeInTheDocument();
  });

  it("is shown only for a draft plan", () => {
    vi.stubGlobal("fetch", async () => json([]));
    const { unmount } = renderWithProviders(<PlanView plan={makePlan(3, { status: "draft" })} log={[]} />);
    expect(screen.getByRole("region", { name: "LLM review" })).toBeInTheDocument();
    unmount();
    renderWithProviders(<PlanView plan={makePlan(3, { status: "approved" })} log={[]} />);
    expect(screen.queryByRole("region", { name: "LLM review" })).toBeNull();
  });
});
