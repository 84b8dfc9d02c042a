import { useState } from "react";
import type { Milestone, Phase, Task } from "../api/types";
import { isRunning } from "../api/statuses";
import { TaskRow } from "./TaskRow";

interface HierarchyActions {
  onRetry: (taskId: string) => void;
  onOpenFiles: (task: Task) => void;
  retryingTaskId: string | null;
  draftPlanId: string | null;
}

function MilestoneSection({ milestone, ...actions }: { milestone: Milestone } & HierarchyActions) {
  const [open, setOpen] = useState(true);
  const done = milestone.tasks.filter((task) => task.status === "completed").length;
  const running = milestone.tasks.some((task) => isRunning(task.status));
  return (
    <div className="milestone">
      <button type="button" className="disclosure" aria-expanded={open} onClick={() => setOpen((value) => !value)}>
        <h3 style={{ margin: 0 }}>
          Milestone {milestone.number}: {milestone.name}
        </h3>
        <span className="muted">
          {done}/{milestone.tasks.length}
          {running && " · running"}
        </span>
      </button>
      {open && (
        <ul className="task-list">
          {milestone.tasks.map((task) => (
            <TaskRow
              key={task.id}
              task={task}
              onRetry={actions.onRetry}
              onOpenFiles={actions.onOpenFiles}
              retrying={actions.retryingTaskId === task.id}
              draftPlanId={actions.draftPlanId}
            />
          ))}
        </ul>
      )}
    </div>
  );
}

function PhaseSection({ phase, ...actions }: { phase: Phase } & HierarchyActions) {
  const [open, setOpen] = useState(true);
  return (
    <section className={`phase--${phase.phase_type}`} aria-label={`Phase ${phase.number}: ${phase.name}`}>
      <div className="phase-header">
        <button type="button" className="disclosure" aria-expanded={open} onClick={() => setOpen((value) => !value)}>
          <h2 style={{ margin: 0 }}>
            Phase {phase.number}: {phase.name}
          </h2>
          <span>{phase.phase_type}</span>
        </button>
      </div>
      {open && phase.milestones.map((milestone) => <MilestoneSection key={milestone.id} milestone={milestone} {...actions} />)}
    </section>
  );
}

/** Phase > Milestone > Task, each level collapsible. */
export function PlanHierarchy({ phases, ...actions }: { phases: readonly Phase[] } & HierarchyActions) {
  return (
    <div style={{ display: "grid", gap: "0.75rem" }}>
      {phases.map((phase) => (
        <PhaseSection key={phase.id} phase={phase} {...actions} />
      ))}
    </div>
  );
}
