import { Link } from "react-router-dom";
import type { MasterplanDetail } from "../api/types";
import { numberField, stringField, type LiveEvent } from "../realtime/events";
import { latestEvent } from "../realtime/planReducer";
import { formatPercent, formatUsd } from "../ui/format";

/** The latest result of each acceptance test (the log is ordered by seq). */
function acceptanceSummary(log: readonly LiveEvent[]): { passed: number; failed: number } {
  const latest = new Map<string, boolean>();
  for (const event of log) {
    const testId = stringField(event, "test_id");
    if (event.type === "acceptance_test_result" && testId !== undefined) latest.set(testId, event.data.passed === true);
  }
  const passed = [...latest.values()].filter(Boolean).length;
  return { passed, failed: latest.size - passed };
}

/** Completion, gate, acceptance, cost and review notices derived from the plan and its event log. */
export function PlanNotices({ plan, log }: { plan: MasterplanDetail; log: readonly LiveEvent[] }) {
  const gate = latestEvent(log, "gate_validation_result");
  const costWarning = latestEvent(log, "cost_warning");
  const reviews = log.filter((event) => event.type === "review_created").length;
  const acceptance = acceptanceSummary(log);
  return (
    <>
      {plan.status === "completed" && (
        <div className="notice notice--success" role="status" data-testid="completion-notice">
          <strong>Execution complete.</strong> {plan.completed_tasks} of {plan.total_tasks} tasks completed
          {plan.failed_tasks > 0 && `, ${plan.failed_tasks} failed`}. Workspace: <code data-testid="workspace-path">{plan.workspace_path ?? "unknown"}</code>
        </div>
      )}
      {(plan.status === "failed" || plan.status === "cancelled") && (
        <div className="notice notice--danger" role="status">
          <strong>Execution {plan.status}.</strong> {plan.status_reason}
          {plan.workspace_path && (
            <>
              {" "}
              Workspace: <code>{plan.workspace_path}</code>
            </>
          )}
        </div>
      )}
      {gate && (
        <div className={`notice ${gate.data.gate_passed ? "notice--success" : "notice--danger"}`} role="status">
          Gate after wave {numberField(gate, "wave_number") ?? "?"} {gate.data.gate_passed ? "passed" : "failed"}: must-have tests{" "}
          {formatPercent(numberField(gate, "must_rate"))}, should-have {formatPercent(numberField(gate, "should_rate"))}. Acceptance tests:{" "}
          {acceptance.passed} passing, {acceptance.failed} failing.
        </div>
      )}
      {costWarning && (
        <div className="notice notice--warning" role="alert">
          Cost warning ({stringField(costWarning, "level") ?? "soft"} limit): {formatUsd(numberField(costWarning, "current_cost_usd"))} spent of a{" "}
          {formatUsd(numberField(costWarning, "soft_limit_usd"))} soft and {formatUsd(numberField(costWarning, "hard_limit_usd"))} hard limit.
        </div>
      )}
      {reviews > 0 && (
        <div className="notice notice--warning">
          {reviews} task{reviews === 1 ? "" : "s"} sent to review. <Link to={`/reviews?masterplan_id=${plan.id}`}>Open the review queue</Link>
        </div>
      )}
    </>
  );
}
