/** Query keys shared by the plan pages and the realtime hook. */
export const planKeys = {
  lists: ["masterplans", "list"] as const,
  list: (filters: Record<string, string>) => ["masterplans", "list", filters] as const,
  detail: (id: string) => ["masterplans", "detail", id] as const,
  files: (id: string, taskId: string) => ["masterplans", "detail", id, "files", taskId] as const,
  reviewIterations: (id: string) => ["masterplans", "review-iterations", id] as const,
};
