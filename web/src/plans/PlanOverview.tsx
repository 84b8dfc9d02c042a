import type { MasterplanDetail } from "../api/types";
import { GlassCard } from "../ui/GlassCard";
import { ProgressBar } from "../ui/ProgressBar";
import { formatDuration, formatUsd } from "../ui/format";

function CostMeter({ plan }: { plan: MasterplanDetail }) {
  const { actual_cost_usd: spent, soft_cost_limit_usd: soft, hard_cost_limit_usd: hard } = plan;
  const scale = Math.max(hard, spent, 0.0001);
  const level = spent >= hard ? "danger" : spent >= soft ? "warning" : "ok";
  return (
    <div>
      <div
        className={`meter meter--${level}`}
        role="meter"
        aria-label="Cost spent against the hard limit"
        aria-valuemin={0}
        aria-valuemax={hard}
        aria-valuenow={spent}
      >
        <span style={{ width: `${(Math.min(spent, scale) / scale) * 100}%` }} />
        <i style={{ left: `${(soft / scale) * 100}%` }} title="Soft limit" />
      </div>
      <p className="muted">
        {formatUsd(spent)} spent · soft limit {formatUsd(soft)} · hard limit {formatUsd(hard)} · estimated {formatUsd(plan.estimated_cost_usd)}
      </p>
    </div>
  );
}

/** Progress, cost against the limits, and the planner's estimates. */
export function PlanOverview({ plan }: { plan: MasterplanDetail }) {
  const { estimate } = plan;
  return (
    <div className="grid-3">
      <GlassCard heading="Progress">
        <ProgressBar value={plan.completed_tasks} max={plan.total_tasks} label="Tasks completed" />
        <p>
          <strong data-testid="progress-count">
            {plan.completed_tasks}/{plan.total_tasks}
          </strong>{" "}
          tasks completed ({plan.progress_percent}%)
          {plan.failed_tasks > 0 && <span className="error-text"> · {plan.failed_tasks} failed</span>}
          {plan.blocked_tasks > 0 && <span> · {plan.blocked_tasks} blocked</span>}
          {plan.skipped_tasks > 0 && <span className="muted"> · {plan.skipped_tasks} skipped</span>}
        </p>
        <p className="muted">{plan.current_wave !== null ? `Wave ${plan.current_wave}` : "Not started"}</p>
      </GlassCard>
      <GlassCard heading="Cost">
        <CostMeter plan={plan} />
      </GlassCard>
      <GlassCard heading="Estimate">
        {estimate ? (
          <dl className="facts">
              <dt>Tokens</dt>
              <dd>{estimate.tokens.toLocaleString()}</dd>
              <dt>Cost</dt>
              <dd>{formatUsd(estimate.cost_usd)}</dd>
              <dt>Duration</dt>
              <dd>{formatDuration(estimate.duration_seconds)}</dd>
              <dt>Waves</dt>
              <dd>{estimate.waves}</dd>
              <dt>Critical path</dt>
              <dd>{estimate.critical_path.map((number) => `#${number}`).join(" → ") || "—"}</dd>
          </dl>
        ) : (
          <p className="muted">No estimate yet.</p>
        )}
      </GlassCard>
    </div>
  );
}
