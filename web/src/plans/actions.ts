import type { MasterplanStatus } from "../api/types";

export type PlanAction = "approve" | "reject" | "execute" | "pause" | "resume" | "cancel";

// Mirrors the server's transition table; the server stays the judge (a stale click gets a 409).
const ACTIONS_BY_STATUS: Record<MasterplanStatus, readonly PlanAction[]> = {
  draft: ["approve", "reject"],
  approved: ["execute"],
  rejected: [],
  in_progress: ["pause", "cancel"],
  paused: ["resume", "cancel"],
  completed: [],
  failed: [],
  cancelled: [],
};

export function allowedActions(status: MasterplanStatus): readonly PlanAction[] {
  return ACTIONS_BY_STATUS[status];
}
