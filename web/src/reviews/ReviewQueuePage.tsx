import { useState } from "react";
import { useSearchParams } from "react-router-dom";
import type { ReviewPriority, ReviewStatus } from "../api/types";
import { usePlans } from "../plans/queries";
import { GlassButton } from "../ui/GlassButton";
import { GlassCard } from "../ui/GlassCard";
import { StatusChip } from "../ui/StatusChip";
import { formatPercent } from "../ui/format";
import { useReviews } from "./queries";
import { ReviewPanel } from "./ReviewPanel";

const STATUSES: ReviewStatus[] = ["pending", "approved", "rejected", "edited", "regenerating"];
const PRIORITIES: ReviewPriority[] = ["critical", "high", "medium", "low"];

export function ReviewQueuePage() {
  const [params, setParams] = useSearchParams();
  const status = (params.get("status") ?? "pending") as ReviewStatus | "";
  const priority = (params.get("priority") ?? "") as ReviewPriority | "";
  const masterplanId = params.get("masterplan_id") ?? "";
  const selected = params.get("review");
  const [ascending, setAscending] = useState(true);
  const reviews = useReviews({ status, priority, masterplanId, lowestConfidenceFirst: ascending });
  const plans = usePlans({ status: "", q: "" });

  const update = (key: string, value: string) =>
    setParams((current) => {
      const next = new URLSearchParams(current);
      next.set(key, value);
      return next;
    });
  const items = reviews.data?.items ?? [];

  return (
    <div className="grid-2">
      <GlassCard aria-labelledby="reviews-title">
        <h1 id="reviews-title">Review queue</h1>
        <div className="row">
          <label>
            Status
            <select value={status} onChange={(event) => update("status", event.target.value)}>
              <option value="">All</option>
              {STATUSES.map((value) => (
                <option key={value}>{value}</option>
              ))}
            </select>
          </label>
          <label>
            Priority
            <select value={priority} onChange={(event) => update("priority", event.target.value)}>
              <option value="">All</option>
              {PRIORITIES.map((value) => (
                <option key={value}>{value}</option>
              ))}
            </select>
          </label>
          <label>
            Plan
            <select value={masterplanId} onChange={(event) => update("masterplan_id", event.target.value)}>
              <option value="">All</option>
              {plans.data?.items.map((plan) => (
                <option key={plan.id} value={plan.id}>
                  {plan.project_name}
                </option>
              ))}
            </select>
          </label>
          <GlassButton small onClick={() => setAscending((value) => !value)} aria-label={`Sort by confidence, ${ascending ? "lowest" : "highest"} first`}>
            Confidence {ascending ? "↑" : "↓"}
          </GlassButton>
        </div>
        {reviews.error && <p className="error-text" role="alert">{reviews.error.message}</p>}
        {reviews.data && items.length === 0 && <p className="muted">Nothing to review.</p>}
        <ul className="list" style={{ marginTop: "0.75rem" }} aria-label="Reviews">
          {items.map((review) => (
            <li key={review.id}>
              <GlassButton className={`review-item${review.id === selected ? " active" : ""}`} aria-current={review.id === selected ? "true" : undefined} onClick={() => update("review", review.id)}>
                <span>
                  #{review.task_number} {review.task_name}
                </span>
                <span className="muted">{formatPercent(review.confidence)}</span>
                <StatusChip status={review.status} />
              </GlassButton>
            </li>
          ))}
        </ul>
      </GlassCard>
      {selected ? <ReviewPanel key={selected} reviewId={selected} /> : <GlassCard className="muted">Select a review to see its diff.</GlassCard>}
    </div>
  );
}
