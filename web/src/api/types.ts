import type { components } from "./schema";

type Schemas = components["schemas"];

export type MasterplanStatus = Schemas["MasterplanStatus"];
export type TaskStatus = Schemas["TaskStatus"];
export type MasterplanSummary = Schemas["MasterplanSummary"];
export type MasterplanDetail = Schemas["MasterplanDetail"];
export type Phase = Schemas["Phase"];
export type Milestone = Schemas["Milestone"];
export type Task = Schemas["Task"];
export type Subtask = Schemas["Subtask"];
export type TaskFile = Schemas["TaskFile"];
export type StoredEvent = Schemas["Event"];
export type Conversation = Schemas["Conversation"];
export type Message = Schemas["Message"];
export type ReviewSummary = Schemas["ReviewSummary"];
export type ReviewDetail = Schemas["ReviewDetail"];
export type ReviewStatus = Schemas["ReviewStatus"];
export type ReviewPriority = Schemas["ReviewPriority"];
export type MetricsSummary = Schemas["MetricsSummary"];
export type PlanMetrics = Schemas["PlanMetrics"];
