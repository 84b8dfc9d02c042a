import { useId, useState } from "react";
import { GlassButton } from "../ui/GlassButton";
import { GlassCard } from "../ui/GlassCard";
import { useApplySuggestions, useRequestReview, useReviewIterations, type ReviewRequest } from "./queries";

type ReviewType = ReviewRequest["type"];

const REVIEW_TYPES: readonly { value: ReviewType; label: string }[] = [
  { value: "refine_descriptions", label: "Refine descriptions" },
  { value: "add_missing", label: "Add missing work" },
  { value: "optimize_order", label: "Optimise order" },
  { value: "break_down", label: "Break down large tasks" },
];

const TARGET_KEYS = ["subtask", "task", "milestone", "phase"] as const;

/** "update task #3: description" from an edit operation such as {op: "update_task", task: 3, description: "…"}. */
export function describeOperation(operation: unknown): string {
  if (typeof operation !== "object" || operation === null) return "unknown change";
  const fields = operation as Record<string, unknown>;
  const op = typeof fields.op === "string" ? fields.op : "edit";
  const [verb = op, ...rest] = op.split("_");
  const noun = rest.join(" ");
  const target = TARGET_KEYS.find((key) => typeof fields[key] === "number" && op.endsWith(key));
  const head = target ? `${verb} ${noun} #${String(fields[target])}` : `${verb} ${noun}`.trim();
  const changed = Object.keys(fields).filter((key) => key !== "op" && key !== target && fields[key] !== null && fields[key] !== undefined);
  return changed.length > 0 ? `${head}: ${changed.map((key) => key.replace(/_/g, " ")).join(", ")}` : head;
}

function suggestionParts(suggestion: Record<string, unknown>): { summary: string; rationale: string } {
  return {
    summary: describeOperation(suggestion.operation),
    rationale: typeof suggestion.rationale === "string" ? suggestion.rationale : "",
  };
}

/** LLM review of a draft: ask for suggestions, pick some, apply them. */
export function PlanReviewCard({ planId }: { planId: string }) {
  const iterations = useReviewIterations(planId);
  const request = useRequestReview(planId);
  const apply = useApplySuggestions(planId);
  const [type, setType] = useState<ReviewType>("refine_descriptions");
  const [selected, setSelected] = useState<ReadonlySet<number>>(new Set());
  const id = useId();

  const latest = iterations.data?.at(-1);
  const applied = new Set(latest?.applied_indices ?? []);
  const chosen = [...selected].filter((index) => !applied.has(index)).sort((a, b) => a - b);
  const error = request.error?.message ?? apply.error?.message ?? iterations.error?.message ?? null;

  function toggle(index: number, on: boolean) {
    setSelected((old) => {
      const next = new Set(old);
      if (on) next.add(index);
      else next.delete(index);
      return next;
    });
  }

  function ask() {
    apply.reset();
    request.mutate({ type, scope: "plan" }, { onSuccess: () => setSelected(new Set()) });
  }

  function applySelected() {
    if (!latest || chosen.length === 0) return;
    request.reset();
    apply.mutate({ iteration_id: latest.id, indices: chosen }, { onSuccess: () => setSelected(new Set()) });
  }

  return (
    <GlassCard heading="LLM review" aria-label="LLM review">
      <div className="row">
        <label htmlFor={`${id}-type`}>
          Review type
          <select id={`${id}-type`} value={type} onChange={(event) => setType(event.target.value as ReviewType)}>
            {REVIEW_TYPES.map((option) => (
              <option key={option.value} value={option.value}>
                {option.label}
              </option>
            ))}
          </select>
        </label>
        <GlassButton variant="primary" onClick={ask} disabled={request.isPending} aria-busy={request.isPending}>
          {request.isPending ? "Asking…" : "Ask for suggestions"}
        </GlassButton>
      </div>
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      {iterations.isPending ? (
        <p className="muted">Loading suggestions…</p>
      ) : !latest ? (
        <p className="muted">No review yet.</p>
      ) : latest.suggestions.length === 0 ? (
        <p className="muted">The reviewer had no suggestions.</p>
      ) : (
        <>
          <ul className="list" aria-label="Suggestions">
            {latest.suggestions.map((suggestion, index) => {
              const { summary, rationale } = suggestionParts(suggestion);
              const isApplied = applied.has(index);
              return (
                <li key={index}>
                  <label className="row" style={{ display: "flex", alignItems: "flex-start" }}>
                    <input
                      type="checkbox"
                      checked={isApplied || selected.has(index)}
                      disabled={isApplied || apply.isPending}
                      onChange={(event) => toggle(index, event.target.checked)}
                      aria-describedby={rationale ? `${id}-why-${index}` : undefined}
                    />
                    <span>
                      {summary}
                      {isApplied && <span className="muted"> (applied)</span>}
                    </span>
                  </label>
                  {rationale && (
                    <p className="muted" id={`${id}-why-${index}`}>
                      {rationale}
                    </p>
                  )}
                </li>
              );
            })}
          </ul>
          <GlassButton onClick={applySelected} disabled={chosen.length === 0 || apply.isPending} aria-busy={apply.isPending}>
            {apply.isPending ? "Applying…" : "Apply selected"}
          </GlassButton>
        </>
      )}
    </GlassCard>
  );
}
