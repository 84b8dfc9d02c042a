import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { makePlan } from "../test/planFixture";
import { renderWithProviders } from "../test/render";
import { ReviewQueuePage } from "./ReviewQueuePage";

const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });
const summary = (id: string, taskNumber: number, confidence: number) => ({
  id,
  masterplan_id: "plan-1",
  task_id: `task-${taskNumber}`,
  task_name: `Task ${taskNumber}`,
  task_number: taskNumber,
  confidence,
  priority: "high",
  status: "pending",
  created_at: "",
  updated_at: "",
});

function stubReviews() {
  const posts: string[] = [];
  const reviews = [summary("r1", 1, 0.6), summary("r2", 2, 0.2), summary("r3", 3, 0.45)];
  const detail = () => ({
    ...reviews[1],
    task: makePlan(3).phases[0]?.milestones[0]?.tasks[0],
    diff: "--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-old\n+new",
    validation_logs: "2 checks passed",
    suggestions: ["Add a test"],
    errors: ["flake8: unused import"],
    confidence_parts: { tests: 0.5 },
    reviewer_feedback: null,
    reviewer_id: null,
  });
  vi.stubGlobal("fetch", async (request: Request) => {
    const { pathname, searchParams } = new URL(request.url);
    if (request.method === "POST") {
      posts.push(pathname);
      reviews[1] = { ...summary("r2", 2, 0.2), status: "approved" };
      return json(detail());
    }
    if (pathname === "/api/v1/reviews") {
      const direction = searchParams.get("sort") === "-confidence" ? -1 : 1;
      const items = [...reviews].sort((a, b) => direction * (a.confidence - b.confidence));
      return json({ items, total: items.length, limit: 50, offset: 0 });
    }
    if (pathname === "/api/v1/reviews/r2") return json(detail());
    if (pathname === "/api/v1/masterplans") return json({ items: [], total: 0, limit: 200, offset: 0 });
    return new Response("{}", { status: 404 });
  });
  return posts;
}

describe("ReviewQueuePage", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("lists reviews by confidence, shows the diff and approves", async () => {
    const posts = stubReviews();
    renderWithProviders(<ReviewQueuePage />);
    const list = await screen.findByRole("list", { name: "Reviews" });
    await within(list).findByText("#2 Task 2");
    const order = () => within(list).getAllByRole("button").map((button) => button.textContent);
    expect(order()).toEqual(["#2 Task 220%pending", "#3 Task 345%pending", "#1 Task 160%pending"]);
    await userEvent.click(screen.getByRole("button", { name: /Sort by confidence/ }));
    await within(list).findByText("#1 Task 1");
    await vi.waitFor(() => expect(order()[0]).toBe("#1 Task 160%pending"));

    await userEvent.click(within(list).getByText("#2 Task 2"));
    const diff = await screen.findByLabelText("Diff");
    expect(within(diff).getByText("+new")).toHaveClass("add");
    expect(within(diff).getByText("-old")).toHaveClass("del");
    expect(screen.getByText("Add a test")).toBeInTheDocument();
    expect(screen.getByText("flake8: unused import")).toBeInTheDocument();
    await userEvent.click(within(screen.getByRole("group", { name: "Review decision" })).getByRole("button", { name: "Approve" }));
    expect(await screen.findByText("Decided: approved.")).toBeInTheDocument();
    expect(posts).toEqual(["/api/v1/reviews/r2/approve"]);
  });
});
