import type { components } from "./schema";

type Schemas = components["schemas"];

export type MasterplanStatus = Schemas["MasterplanSummary"]["status"];
export type TaskStatus = Schemas["TaskOut"]["status"];
export type MasterplanSummary = Schemas["MasterplanSummary"];
export type MasterplanDetail = Schemas["MasterplanDetail"];
export type Phase = Schemas["PhaseOut"];
export type Milestone = Schemas["MilestoneOut"];
export type Task = Schemas["TaskOut"];
export type Subtask = Schemas["SubtaskOut"];
export type TaskFile = Schemas["TaskFile-Output"];
export type Conversation = Schemas["ConversationOut"];
export type Message = Schemas["MessageOut"];
export type ReviewSummary = Schemas["ReviewSummary"];
export type ReviewDetail = Schemas["ReviewDetail"];
export type ReviewStatus = Schemas["ReviewSummary"]["status"];
export type ReviewPriority = Schemas["ReviewSummary"]["priority"];
export type MetricsSummary = Schemas["MetricsSummary"];
export type PlanMetrics = Schemas["PlanMetrics"];
