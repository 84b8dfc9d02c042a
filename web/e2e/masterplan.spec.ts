import { expect, test, type Page } from "@playwright/test";

const token = process.env.MASTERPLAN_E2E_TOKEN ?? "";

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `e2e-artifacts/${name}.png`, fullPage: true });
}

test.beforeAll(() => {
  if (!process.env.MASTERPLAN_E2E_URL) throw new Error("MASTERPLAN_E2E_URL must point at a running `masterplan serve`");
});

test("chat to plan, approve, execute live, then review", async ({ page }) => {
  const consoleErrors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => consoleErrors.push(error.message));

  // The token arrives once in the URL, is kept, and leaves the address bar.
  await page.goto(token ? `/?token=${encodeURIComponent(token)}` : "/");
  await expect(page).toHaveURL(/\/chat$/);
  expect(page.url()).not.toContain("token=");
  await expect(page.getByText("live", { exact: true })).toBeVisible();

  await page.getByRole("textbox", { name: "Message" }).fill("/masterplan a todo REST API");
  await page.getByRole("button", { name: "Send" }).click();
  const generation = page.getByRole("dialog", { name: "Generating a masterplan" });
  await expect(generation).toBeVisible();
  await shot(page, "01-generation");
  const openPlan = generation.getByRole("link", { name: "Open the plan" });
  await expect(openPlan).toBeVisible({ timeout: 180_000 });
  await expect(generation.getByTestId("token-counter")).not.toHaveText("0");
  await openPlan.click();

  await expect(page).toHaveURL(/\/plans\/[^/]+$/);
  const planId = page.url().split("/").pop() ?? "";
  const tasks = page.locator("[data-testid^='task-']");
  await expect(tasks.first()).toBeVisible();
  const taskCount = await tasks.count();
  await shot(page, "02-draft");

  await page.getByRole("group", { name: "Plan actions" }).getByRole("button", { name: "Approve" }).click();
  await page.getByRole("group", { name: "Plan actions" }).getByRole("button", { name: "Execute" }).click();

  // No reload from here on: every change below arrives over Socket.IO.
  const completed = page.locator("[data-testid^='task-'][data-status='completed']");
  await expect(completed.first()).toBeVisible({ timeout: 120_000 });
  await shot(page, "03-running");
  const notice = page.getByTestId("completion-notice");
  await expect(notice).toBeVisible({ timeout: 240_000 });
  await expect(page.getByTestId("workspace-path")).not.toHaveText(/^(unknown)?$/);
  const finished = page.locator("[data-testid^='task-'][data-status='completed'], [data-testid^='task-'][data-status='failed']");
  await expect(finished).toHaveCount(taskCount);
  await shot(page, "04-complete");

  await page.goto(`/reviews?status=pending&masterplan_id=${planId}`);
  const reviews = page.getByRole("list", { name: "Reviews" }).getByRole("button");
  await expect(page.getByText("Nothing to review.").or(reviews.first())).toBeVisible();
  if ((await reviews.count()) > 0) {
    await reviews.first().click();
    await expect(page.getByLabel("Diff").or(page.getByText("No changes."))).toBeVisible();
    await page.getByRole("group", { name: "Review decision" }).getByRole("button", { name: "Approve" }).click();
    await expect(page.getByText("Decided: approved.")).toBeVisible();
  }
  await shot(page, "05-review");

  expect(consoleErrors).toEqual([]);
});
