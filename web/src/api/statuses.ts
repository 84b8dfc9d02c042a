import type { MasterplanStatus, TaskStatus } from "./types";

export const TASK_STATUSES = [
  "pending",
  "ready",
  "in_progress",
  "validating",
  "completed",
  "failed",
  "blocked",
  "skipped",
] as const satisfies readonly TaskStatus[];

export const PLAN_STATUSES = [
  "draft",
  "approved",
  "rejected",
  "in_progress",
  "paused",
  "completed",
  "failed",
  "cancelled",
] as const satisfies readonly MasterplanStatus[];

export function isTaskStatus(value: unknown): value is TaskStatus {
  return (TASK_STATUSES as readonly unknown[]).includes(value);
}

export function isPlanStatus(value: unknown): value is MasterplanStatus {
  return (PLAN_STATUSES as readonly unknown[]).includes(value);
}

/** A task that is being worked on right now. */
export function isRunning(status: TaskStatus): boolean {
  return status === "in_progress" || status === "validating";
}
