import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import type { ReviewPriority, ReviewStatus, TaskFile } from "../api/types";

export interface ReviewFilters {
  status: ReviewStatus | "";
  priority: ReviewPriority | "";
  masterplanId: string;
  lowestConfidenceFirst: boolean;
}

const reviewKeys = {
  all: ["reviews"] as const,
  list: (filters: ReviewFilters) => ["reviews", "list", filters] as const,
  detail: (id: string) => ["reviews", "detail", id] as const,
};

export function useReviews(filters: ReviewFilters) {
  return useQuery({
    queryKey: reviewKeys.list(filters),
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/reviews", {
          params: {
            query: {
              status: filters.status || undefined,
              priority: filters.priority || undefined,
              masterplan_id: filters.masterplanId || undefined,
              sort: filters.lowestConfidenceFirst ? "confidence" : "-confidence",
            },
          },
          signal,
        }),
      ),
  });
}

export function useReview(id: string) {
  return useQuery({
    queryKey: reviewKeys.detail(id),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/reviews/{review_id}", { params: { path: { review_id: id } }, signal })),
  });
}

export type ReviewDecision =
  | { kind: "approve" }
  | { kind: "reject"; feedback: string }
  | { kind: "regenerate"; feedback: string }
  | { kind: "edit"; files: TaskFile[] };

function decide(id: string, decision: ReviewDecision) {
  const path = { params: { path: { review_id: id } } };
  switch (decision.kind) {
    case "approve":
      return unwrap(api.POST("/api/v1/reviews/{review_id}/approve", path));
    case "reject":
      return unwrap(api.POST("/api/v1/reviews/{review_id}/reject", { ...path, body: { feedback: decision.feedback } }));
    case "regenerate":
      return unwrap(api.POST("/api/v1/reviews/{review_id}/regenerate", { ...path, body: { feedback: decision.feedback } }));
    case "edit":
      return unwrap(api.POST("/api/v1/reviews/{review_id}/edit", { ...path, body: { files: decision.files } }));
  }
}

export function useReviewDecision(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (decision: ReviewDecision) => decide(id, decision),
    onSuccess: (review) => queryClient.setQueryData(reviewKeys.detail(id), review),
    onSettled: () => queryClient.invalidateQueries({ queryKey: reviewKeys.all }),
  });
}
