import type { MasterplanDetail, Task } from "../api/types";
import { isPlanStatus, isTaskStatus } from "../api/statuses";
import { mergeLog, numberField, stringField, stringListField, type LiveEvent } from "./events";

/**
 * What the client knows beyond the fetched plan. Every field an event writes is a
 * last-writer-wins register keyed by seq (`versions`), so any delivery order and any
 * replay of the same events ends in the same state.
 */
export interface PlanLiveMeta {
  lastSeq: number;
  versions: Readonly<Record<string, number>>;
  log: readonly LiveEvent[];
}

export const emptyMeta: PlanLiveMeta = { lastSeq: 0, versions: {}, log: [] };

type TaskPatch = Partial<Pick<Task, "status" | "modified_files" | "last_error" | "confidence" | "retry_count">>;
type PlanPatch = Partial<
  Pick<MasterplanDetail, "status" | "status_reason" | "current_wave" | "workspace_path" | "actual_cost_usd" | "total_tasks">
>;

function allTasks(plan: MasterplanDetail): Task[] {
  return plan.phases.flatMap((phase) => phase.milestones.flatMap((milestone) => milestone.tasks));
}

function taskResolver(plan: MasterplanDetail): (event: LiveEvent) => string | undefined {
  const ids = new Map<string, string>();
  for (const task of allTasks(plan)) {
    ids.set(task.id, task.id);
    ids.set(`#${task.task_number}`, task.id);
  }
  return (event) => {
    const id = stringField(event, "task_id");
    const number = numberField(event, "task_number");
    return (id !== undefined ? ids.get(id) : undefined) ?? ids.get(`#${number}`);
  };
}

function patchTasks(plan: MasterplanDetail, patches: Map<string, TaskPatch>): MasterplanDetail {
  if (patches.size === 0) return plan;
  // Copy only the containers on the path to a changed task, so unchanged rows keep their identity.
  const phases = plan.phases.map((phase) => {
    let phaseChanged = false;
    const milestones = phase.milestones.map((milestone) => {
      let changed = false;
      const tasks = milestone.tasks.map((task) => {
        const patch = patches.get(task.id);
        if (!patch) return task;
        changed = true;
        return { ...task, ...patch };
      });
      if (!changed) return milestone;
      phaseChanged = true;
      return { ...milestone, tasks };
    });
    return phaseChanged ? { ...phase, milestones } : phase;
  });
  const tasks = phases.flatMap((phase) => phase.milestones.flatMap((milestone) => milestone.tasks));
  const count = (status: Task["status"]) => tasks.filter((task) => task.status === status).length;
  const completed = count("completed");
  const total = Math.max(plan.total_tasks, tasks.length);
  return {
    ...plan,
    phases,
    completed_tasks: completed,
    failed_tasks: count("failed"),
    skipped_tasks: count("skipped"),
    blocked_tasks: count("blocked"),
    progress_percent: total === 0 ? 0 : Math.round((completed / total) * 1000) / 10,
  };
}

/** Applies a batch of events (any order, duplicates allowed) to a plan and its live meta. */
export function applyPlanEvents(
  plan: MasterplanDetail,
  meta: PlanLiveMeta,
  events: readonly LiveEvent[],
): { plan: MasterplanDetail; meta: PlanLiveMeta } {
  const versions: Record<string, number> = { ...meta.versions };
  const planPatch: PlanPatch = {};
  const taskPatches = new Map<string, TaskPatch>();
  const resolveTask = taskResolver(plan);

  const write = (key: string, seq: number, apply: () => void): void => {
    if (seq <= (versions[key] ?? 0)) return;
    versions[key] = seq;
    apply();
  };
  const writeTask = (event: LiveEvent, field: keyof TaskPatch, value: TaskPatch[keyof TaskPatch]): void => {
    const taskId = resolveTask(event);
    if (taskId === undefined || value === undefined) return;
    write(`task:${taskId}:${field}`, event.seq, () => {
      taskPatches.set(taskId, { ...taskPatches.get(taskId), [field]: value });
    });
  };
  const writePlan = <K extends keyof PlanPatch>(event: LiveEvent, field: K, value: PlanPatch[K] | undefined): void => {
    if (value === undefined) return;
    write(`plan:${field}`, event.seq, () => {
      planPatch[field] = value;
    });
  };

  for (const event of events) {
    const status = event.data.status;
    switch (event.type) {
      case "masterplan_execution_start":
        writePlan(event, "workspace_path", stringField(event, "workspace_path"));
        writePlan(event, "total_tasks", numberField(event, "total_tasks"));
        break;
      case "wave_execution_start":
        writePlan(event, "current_wave", numberField(event, "wave_number"));
        break;
      case "task_execution_progress":
        writeTask(event, "status", isTaskStatus(status) ? status : undefined);
        break;
      case "task_execution_complete":
        writeTask(event, "status", isTaskStatus(status) ? status : undefined);
        writeTask(event, "modified_files", stringListField(event, "output_files"));
        writeTask(event, "last_error", stringField(event, "error"));
        writeTask(event, "confidence", numberField(event, "confidence"));
        writeTask(event, "retry_count", numberField(event, "retry_count"));
        break;
      case "review_created":
        writeTask(event, "confidence", numberField(event, "confidence"));
        break;
      case "cost_warning":
        writePlan(event, "actual_cost_usd", numberField(event, "current_cost_usd"));
        break;
      case "masterplan_status_changed":
        if (isPlanStatus(status)) {
          writePlan(event, "status", status);
          writePlan(event, "status_reason", stringField(event, "reason") ?? null);
        }
        break;
    }
    writePlan(event, "actual_cost_usd", numberField(event, "actual_cost_usd"));
  }

  const lastSeq = events.reduce((max, event) => Math.max(max, event.seq), meta.lastSeq);
  const patched = patchTasks(plan, taskPatches);
  const nextPlan = Object.keys(planPatch).length > 0 ? { ...patched, ...planPatch } : patched;
  return { plan: nextPlan, meta: { lastSeq, versions, log: mergeLog(meta.log, events) } };
}

/** The newest event of a type, by seq. */
export function latestEvent(log: readonly LiveEvent[], type: string): LiveEvent | undefined {
  for (let index = log.length - 1; index >= 0; index -= 1) {
    if (log[index]?.type === type) return log[index];
  }
  return undefined;
}
