import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import type { components } from "../api/schema";
import type { MasterplanStatus } from "../api/types";
import type { PlanAction } from "./actions";
import { planKeys } from "./keys";

export interface PlanFilters {
  status: MasterplanStatus | "";
  q: string;
}

export function usePlans(filters: PlanFilters) {
  return useQuery({
    queryKey: planKeys.list({ ...filters }),
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/masterplans", {
          params: { query: { status: filters.status || undefined, q: filters.q || undefined, limit: 200 } },
          signal,
        }),
      ),
  });
}

export function usePlan(id: string) {
  return useQuery({
    queryKey: planKeys.detail(id),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/masterplans/{plan_id}", { params: { path: { plan_id: id } }, signal })),
    // Live events keep the cached plan current; a refetch would only race with them.
    staleTime: Infinity,
  });
}

async function runAction(id: string, action: PlanAction, reason: string): Promise<void> {
  const path = { params: { path: { plan_id: id } } };
  switch (action) {
    case "approve":
      await unwrap(api.POST("/api/v1/masterplans/{plan_id}/approve", path));
      return;
    case "reject":
      await unwrap(api.POST("/api/v1/masterplans/{plan_id}/reject", { ...path, body: { reason } }));
      return;
    case "execute":
      await unwrap(api.POST("/api/v1/masterplans/{plan_id}/execute", path));
      return;
    case "pause":
      await unwrap(api.POST("/api/v1/masterplans/{plan_id}/pause", path));
      return;
    case "resume":
      await unwrap(api.POST("/api/v1/masterplans/{plan_id}/resume", path));
      return;
    case "cancel":
      await unwrap(api.POST("/api/v1/masterplans/{plan_id}/cancel", path));
      return;
  }
}

export function usePlanAction(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ action, reason = "" }: { action: PlanAction; reason?: string }) => runAction(id, action, reason),
    onSettled: () => queryClient.invalidateQueries({ queryKey: planKeys.detail(id) }),
  });
}

export function useRetryTask(planId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (taskId: string) =>
      unwrap(api.POST("/api/v1/masterplans/{plan_id}/tasks/{task_id}/retry", { params: { path: { plan_id: planId, task_id: taskId } } })),
    onSettled: () => queryClient.invalidateQueries({ queryKey: planKeys.detail(planId) }),
  });
}

export function useTaskFiles(planId: string, taskId: string) {
  return useQuery({
    queryKey: planKeys.files(planId, taskId),
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/masterplans/{plan_id}/tasks/{task_id}/files", { params: { path: { plan_id: planId, task_id: taskId } }, signal })),
  });
}

export type PlanEditOperation = components["schemas"]["EditRequest"]["operations"][number];

/** Applies edit operations to a draft; the server answers with the edited plan. */
export function useEditPlan(planId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ operations, summary }: { operations: PlanEditOperation[]; summary: string }) =>
      unwrap(api.POST("/api/v1/masterplans/{plan_id}/edits", { params: { path: { plan_id: planId } }, body: { operations, summary } })),
    onSuccess: (plan) => queryClient.setQueryData(planKeys.detail(planId), plan),
  });
}

export type ReviewRequest = components["schemas"]["ReviewRequest"];
export type ReviewIteration = components["schemas"]["ReviewIterationOut"];

/** The plan's LLM review iterations, oldest first. */
export function useReviewIterations(planId: string) {
  return useQuery({
    queryKey: planKeys.reviewIterations(planId),
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/masterplans/{plan_id}/review-iterations", { params: { path: { plan_id: planId } }, signal })),
  });
}

/** Asks the reviewer model for suggestions on a draft; the answer is a new open iteration. */
export function useRequestReview(planId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: ReviewRequest) => unwrap(api.POST("/api/v1/masterplans/{plan_id}/review", { params: { path: { plan_id: planId } }, body })),
    onSuccess: (iteration) =>
      queryClient.setQueryData<ReviewIteration[]>(planKeys.reviewIterations(planId), (old = []) => [
        ...old.filter((item) => item.id !== iteration.id),
        iteration,
      ]),
  });
}

/** Applies chosen suggestions of an iteration, then refetches the plan they edited. */
export function useApplySuggestions(planId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { iteration_id: string; indices: number[] }) =>
      unwrap(api.POST("/api/v1/masterplans/{plan_id}/apply-suggestions", { params: { path: { plan_id: planId } }, body })),
    onSuccess: (iteration) =>
      queryClient.setQueryData<ReviewIteration[]>(planKeys.reviewIterations(planId), (old = []) =>
        old.some((item) => item.id === iteration.id) ? old.map((item) => (item.id === iteration.id ? iteration : item)) : [...old, iteration],
      ),
    onSettled: () => queryClient.invalidateQueries({ queryKey: planKeys.detail(planId) }),
  });
}
