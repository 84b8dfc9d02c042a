import { useState, type FormEvent } from "react";
import type { MasterplanDetail } from "../api/types";
import { GlassButton } from "../ui/GlassButton";
import { GlassCard } from "../ui/GlassCard";
import { StatusChip } from "../ui/StatusChip";
import { allowedActions, type PlanAction } from "./actions";

const LABELS: Record<PlanAction, string> = {
  approve: "Approve",
  reject: "Reject",
  execute: "Execute",
  pause: "Pause",
  resume: "Resume",
  cancel: "Cancel execution",
};

interface PlanHeaderProps {
  plan: MasterplanDetail;
  busy: boolean;
  error: string | null;
  onAction: (action: PlanAction, reason?: string) => void;
}

/** Name, status and the actions the current status allows (reject asks for a reason, cancel for a confirmation). */
export function PlanHeader({ plan, busy, error, onAction }: PlanHeaderProps) {
  const [pending, setPending] = useState<"reject" | "cancel" | null>(null);
  const [reason, setReason] = useState("");
  const actions = allowedActions(plan.status);

  const submitReject = (event: FormEvent) => {
    event.preventDefault();
    onAction("reject", reason.trim());
    setPending(null);
  };

  return (
    <GlassCard aria-labelledby="plan-title">
      <div className="row spread">
        <div>
          <h1 id="plan-title">{plan.project_name}</h1>
          <div className="row">
            <StatusChip status={plan.status} />
            {plan.status_reason && <span className="muted">{plan.status_reason}</span>}
            {plan.tech_stack.map((item) => (
              <span key={item} className="tag">
                {item}
              </span>
            ))}
          </div>
        </div>
        <div className="row" role="group" aria-label="Plan actions">
          {actions.map((action) => (
            <GlassButton
              key={action}
              variant={action === "reject" || action === "cancel" ? "danger" : "primary"}
              disabled={busy}
              onClick={() => (action === "reject" || action === "cancel" ? setPending(action) : onAction(action))}
            >
              {LABELS[action]}
            </GlassButton>
          ))}
        </div>
      </div>
      {plan.description && <p className="muted">{plan.description}</p>}
      {pending === "reject" && (
        <form onSubmit={submitReject} className="row">
          <label style={{ flex: 1 }}>
            Reason for rejecting
            <input value={reason} onChange={(event) => setReason(event.target.value)} required autoFocus />
          </label>
          <GlassButton type="submit" variant="danger" disabled={busy || reason.trim() === ""}>
            Confirm rejection
          </GlassButton>
          <GlassButton onClick={() => setPending(null)}>Keep draft</GlassButton>
        </form>
      )}
      {pending === "cancel" && (
        <div className="row notice notice--warning" role="alert">
          <span>Cancel this execution? Tasks not yet finished will be skipped.</span>
          <GlassButton
            variant="danger"
            onClick={() => {
              onAction("cancel");
              setPending(null);
            }}
          >
            Yes, cancel
          </GlassButton>
          <GlassButton onClick={() => setPending(null)}>Keep running</GlassButton>
        </div>
      )}
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
    </GlassCard>
  );
}
