import { Link } from "react-router-dom";
import type { MasterplanDetail } from "../api/types";
import { numberField, stringField, type LiveEvent } from "../realtime/events";
import { latestEvent } from "../realtime/planReducer";
import { formatPercent, formatUsd } from "../ui/format";

/** Completion, gate, cost and review notices derived from the plan and its event log. */
export function PlanNotices({ plan, log }: { plan: MasterplanDetail; log: readonly LiveEvent[] }) {
  const gate = latestEvent(log, "gate_validation_result");
  const costWarning = latestEvent(log, "cost_warning");
  const reviews = log.filter((event) => event.type === "review_created").length;
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
          Wave gate {gate.data.gate_passed ? "passed" : "failed"}: must {formatPercent(numberField(gate, "must_rate"))}, should{" "}
          {formatPercent(numberField(gate, "should_rate"))}
        </div>
      )}
      {costWarning && (
        <div className="notice notice--warning" role="alert">
          Cost warning: {stringField(costWarning, "message") ?? `${formatUsd(numberField(costWarning, "actual_cost_usd"))} spent`}
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
