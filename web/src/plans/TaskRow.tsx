import { memo, useState } from "react";
import type { Task } from "../api/types";
import { isRunning } from "../api/statuses";
import { GlassButton } from "../ui/GlassButton";
import { StatusChip } from "../ui/StatusChip";
import { formatPercent, formatUsd } from "../ui/format";
import { TaskEditor } from "./TaskEditor";

interface TaskRowProps {
  task: Task;
  onRetry: (taskId: string) => void;
  onOpenFiles: (task: Task) => void;
  retrying: boolean;
  /** Set while the plan is a draft: its tasks can be edited. */
  draftPlanId: string | null;
}

function TaskDetails({ task, onRetry, onOpenFiles, retrying, onEdit }: TaskRowProps & { onEdit: (() => void) | null }) {
  return (
    <div className="task-body" id={`task-${task.id}-details`}>
      {task.description && <p style={{ margin: 0 }}>{task.description}</p>}
      <dl className="facts">
        <dt>Type</dt>
        <dd>
          {task.task_type} · {task.complexity} complexity
        </dd>
        <dt>Depends on</dt>
        <dd>{task.depends_on.length ? task.depends_on.map((number) => `#${number}`).join(", ") : "nothing"}</dd>
        <dt>Target files</dt>
        <dd>{task.target_files.length ? task.target_files.map((file) => <code key={file}>{file} </code>) : "—"}</dd>
        <dt>Attempts</dt>
        <dd>
          {task.retry_count} of {task.max_retries} retries used
        </dd>
        <dt>Confidence</dt>
        <dd>{formatPercent(task.confidence)}</dd>
        <dt>Cost</dt>
        <dd>{formatUsd(task.cost_usd)}</dd>
      </dl>
      {task.subtasks.length > 0 && (
        <div>
          <h4 style={{ margin: "0.25rem 0" }}>Subtasks</h4>
          <ol className="list">
            {task.subtasks.map((subtask) => (
              <li key={subtask.id} className="row">
                <StatusChip status={subtask.status} /> {subtask.number}. {subtask.name}
              </li>
            ))}
          </ol>
        </div>
      )}
      {task.last_error && (
        <p className="error-text" style={{ margin: 0 }}>
          Last error: {task.last_error}
        </p>
      )}
      {task.validation_errors.length > 0 && (
        <ul className="error-text" style={{ margin: 0 }}>
          {task.validation_errors.map((message, index) => (
            <li key={index}>{message}</li>
          ))}
        </ul>
      )}
      <div className="row">
        {(task.modified_files.length > 0 || task.status === "completed") && (
          <GlassButton small onClick={() => onOpenFiles(task)}>
            View files
          </GlassButton>
        )}
        {onEdit && (
          <GlassButton small onClick={onEdit}>
            Edit task
          </GlassButton>
        )}
        {task.status === "failed" && (
          <GlassButton small variant="primary" disabled={retrying} onClick={() => onRetry(task.id)}>
            Retry task #{task.task_number}
          </GlassButton>
        )}
      </div>
    </div>
  );
}

/** A task line that opens to its details; re-renders only when its own task object changes. */
export const TaskRow = memo(function TaskRow(props: TaskRowProps) {
  const { task } = props;
  const [open, setOpen] = useState(false);
  const [editing, setEditing] = useState(false);
  const running = isRunning(task.status);
  const classes = ["task", running ? "task--running" : "", task.status === "failed" ? "task--failed" : ""];
  return (
    <li className={classes.filter(Boolean).join(" ")} data-testid={`task-${task.task_number}`} data-status={task.status}>
      <button
        type="button"
        className="disclosure"
        aria-expanded={open}
        aria-controls={open ? `task-${task.id}-details` : undefined}
        onClick={() => setOpen((value) => !value)}
      >
        <span className="muted">#{task.task_number}</span>
        <span>{task.name}</span>
        <span className="tag">{task.complexity}</span>
        <StatusChip status={task.status} />
      </button>
      {open &&
        (editing && props.draftPlanId ? (
          <div className="task-body">
            <TaskEditor planId={props.draftPlanId} task={task} onDone={() => setEditing(false)} />
          </div>
        ) : (
          <TaskDetails {...props} onEdit={props.draftPlanId ? () => setEditing(true) : null} />
        ))}
    </li>
  );
});
