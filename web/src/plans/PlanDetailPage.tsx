import { useCallback, useMemo, useState } from "react";
import { useParams } from "react-router-dom";
import type { MasterplanDetail, Task } from "../api/types";
import { useMasterplanEvents } from "../realtime/useMasterplanEvents";
import type { LiveEvent } from "../realtime/events";
import { GlassButton } from "../ui/GlassButton";
import { GlassCard } from "../ui/GlassCard";
import { formatTime } from "../ui/format";
import type { PlanAction } from "./actions";
import { DependencyGraph } from "./DependencyGraph";
import { FileViewer } from "./FileViewer";
import { PlanHeader } from "./PlanHeader";
import { PlanHierarchy } from "./PlanHierarchy";
import { PlanNotices } from "./PlanNotices";
import { PlanOverview } from "./PlanOverview";
import { PlanReviewCard } from "./PlanReviewCard";
import { usePlan, usePlanAction, useRetryTask } from "./queries";

function ActivityLog({ log }: { log: readonly LiveEvent[] }) {
  const recent = log.slice(-25).reverse();
  return (
    <GlassCard heading="Activity">
      {recent.length === 0 ? (
        <p className="muted">No events yet.</p>
      ) : (
        <ol className="list activity" aria-label="Recent events">
          {recent.map((event) => (
            <li key={event.seq}>
              <span>{event.type.replace(/_/g, " ")}</span>
              <span className="muted">{formatTime(event.timestamp)}</span>
            </li>
          ))}
        </ol>
      )}
    </GlassCard>
  );
}

export function PlanView({ plan, log }: { plan: MasterplanDetail; log: readonly LiveEvent[] }) {
  const action = usePlanAction(plan.id);
  const retry = useRetryTask(plan.id);
  const [view, setView] = useState<"tasks" | "graph">("tasks");
  const [filesOf, setFilesOf] = useState<Task | null>(null);
  const tasks = useMemo(() => plan.phases.flatMap((phase) => phase.milestones.flatMap((milestone) => milestone.tasks)), [plan.phases]);
  const { mutate: runAction } = action;
  const { mutate: retryTask } = retry;
  const onAction = useCallback((name: PlanAction, reason?: string) => runAction({ action: name, reason }), [runAction]);
  const onRetry = useCallback((taskId: string) => retryTask(taskId), [retryTask]);
  const error = action.error?.message ?? retry.error?.message ?? null;

  return (
    <>
      <PlanHeader plan={plan} busy={action.isPending} error={error} onAction={onAction} />
      <PlanNotices plan={plan} log={log} />
      <PlanOverview plan={plan} />
      {plan.status === "draft" && <PlanReviewCard planId={plan.id} />}
      <div className="grid-main">
        <GlassCard>
          <div className="row spread">
            <h2>Tasks</h2>
            <div className="row" role="group" aria-label="View">
              <GlassButton small aria-pressed={view === "tasks"} onClick={() => setView("tasks")}>
                Hierarchy
              </GlassButton>
              <GlassButton small aria-pressed={view === "graph"} onClick={() => setView("graph")}>
                Dependency graph
              </GlassButton>
            </div>
          </div>
          {view === "tasks" ? (
            <PlanHierarchy
              phases={plan.phases}
              onRetry={onRetry}
              onOpenFiles={setFilesOf}
              retryingTaskId={retry.isPending ? (retry.variables ?? null) : null}
              draftPlanId={plan.status === "draft" ? plan.id : null}
            />
          ) : (
            <DependencyGraph tasks={tasks} />
          )}
        </GlassCard>
        <ActivityLog log={log} />
      </div>
      {filesOf && <FileViewer planId={plan.id} task={filesOf} onClose={() => setFilesOf(null)} />}
    </>
  );
}

export function PlanDetailPage() {
  const { planId = "" } = useParams();
  const plan = usePlan(planId);
  const log = useMasterplanEvents(planId, plan.data !== undefined);
  if (plan.isPending) return <p className="muted">Loading plan…</p>;
  if (plan.error) return <p className="error-text" role="alert">{plan.error.message}</p>;
  return <PlanView plan={plan.data} log={log} />;
}
