import type { MasterplanDetail, Task, TaskStatus } from "../api/types";
import type { LiveEvent } from "../realtime/events";

const PHASES = ["setup", "core", "polish"] as const;

/** A plan with `taskCount` tasks spread over 3 phases and milestones of up to 10 tasks; task n depends on n-1 within its milestone. */
export function makePlan(taskCount: number, overrides: Partial<MasterplanDetail> = {}): MasterplanDetail {
  const perPhase = Math.ceil(taskCount / PHASES.length);
  let number = 0;
  const phases = PHASES.map((phaseType, phaseIndex) => {
    const count = Math.max(0, Math.min(perPhase, taskCount - phaseIndex * perPhase));
    const milestones = Array.from({ length: Math.ceil(count / 10) }, (_, milestoneIndex) => {
      const tasks = Array.from({ length: Math.min(10, count - milestoneIndex * 10) }, (_, taskIndex): Task => {
        number += 1;
        return {
          id: `task-${number}`,
          task_number: number,
          name: `Task ${number}`,
          description: `Implements part ${number}`,
          complexity: "medium",
          task_type: "implementation",
          depends_on: taskIndex > 0 ? [number - 1] : [],
          target_files: [`src/module_${number}.py`],
          modified_files: [],
          status: "pending",
          wave: null,
          retry_count: 0,
          max_retries: 3,
          last_error: null,
          validation_passed: null,
          confidence: null,
          validation_errors: [],
          cost_usd: 0,
          input_tokens: 0,
          output_tokens: 0,
          commit_sha: null,
          started_at: null,
          completed_at: null,
          subtasks: [{ id: `sub-${number}-1`, number: 1, name: "Write the code", description: "", status: "pending" }],
        };
      });
      return {
        id: `milestone-${phaseIndex}-${milestoneIndex}`,
        number: milestoneIndex + 1,
        name: `Milestone ${milestoneIndex + 1}`,
        description: "",
        depends_on_milestones: [],
        tasks,
      };
    });
    return {
      id: `phase-${phaseIndex}`,
      phase_type: phaseType,
      number: phaseIndex + 1,
      name: `${phaseType} phase`,
      description: "",
      execution_mode: null,
      pause_after: false,
      milestones,
    };
  });
  return {
    id: "plan-1",
    project_name: "Todo API",
    description: "A todo REST API",
    status: "in_progress",
    status_reason: null,
    total_phases: phases.length,
    total_milestones: phases.reduce((sum, phase) => sum + phase.milestones.length, 0),
    total_tasks: taskCount,
    total_subtasks: taskCount,
    completed_tasks: 0,
    failed_tasks: 0,
    skipped_tasks: 0,
    blocked_tasks: 0,
    progress_percent: 0,
    estimated_cost_usd: 1.2,
    actual_cost_usd: 0,
    llm_model: "sim",
    version: 1,
    created_at: "2025-01-01T00:00:00Z",
    updated_at: "2025-01-01T00:00:00Z",
    owner_id: "user-1",
    discovery_id: null,
    conversation_id: null,
    tech_stack: ["python", "fastapi"],
    architecture_style: "layered",
    current_wave: null,
    generation_cost_usd: null,
    generation_input_tokens: 0,
    generation_output_tokens: 0,
    soft_cost_limit_usd: 5,
    hard_cost_limit_usd: 10,
    workspace_id: null,
    workspace_path: null,
    execution_id: null,
    execution_mode: "parallel",
    trace_id: "",
    started_at: null,
    completed_at: null,
    estimate: { tokens: 12000, cost_usd: 1.2, duration_seconds: 300, waves: 10, critical_path: [1, 2, 3], parallelism: 4 },
    phases,
    ...overrides,
  };
}

export function event(seq: number, type: string, data: Record<string, unknown> = {}): LiveEvent {
  return { type, seq, timestamp: `2025-01-01T00:00:${String(seq % 60).padStart(2, "0")}Z`, data: { masterplan_id: "plan-1", seq, ...data } };
}

/** The events a full run of `taskCount` tasks produces: start, per task progress and completion, end. */
export function executionEvents(taskCount: number, finalStatus: (taskNumber: number) => TaskStatus = () => "completed"): LiveEvent[] {
  const events: LiveEvent[] = [];
  let seq = 0;
  const push = (type: string, data: Record<string, unknown>) => events.push(event(++seq, type, data));
  push("masterplan_status_changed", { status: "in_progress", previous_status: "approved" });
  push("masterplan_execution_start", { workspace_id: "ws-1", workspace_path: "/tmp/ws-1", total_tasks: taskCount });
  let completed = 0;
  for (let number = 1; number <= taskCount; number += 1) {
    if ((number - 1) % 10 === 0) push("wave_execution_start", { wave_number: (number - 1) / 10 + 1, total_atoms: 10 });
    push("task_execution_progress", { task_id: `task-${number}`, task_number: number, status: "in_progress", current_task: number, total_tasks: taskCount });
    const status = finalStatus(number);
    if (status === "completed") completed += 1;
    push("task_execution_complete", { task_id: `task-${number}`, status, output_files: [`src/module_${number}.py`], completed_tasks: completed, total_tasks: taskCount, actual_cost_usd: number * 0.01 });
  }
  push("masterplan_status_changed", { status: "completed", previous_status: "in_progress" });
  return events;
}
