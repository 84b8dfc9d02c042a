import { useState } from "react";
import type { ReviewDetail, TaskFile } from "../api/types";
import { useTaskFiles } from "../plans/queries";
import { GlassButton } from "../ui/GlassButton";
import { GlassCard } from "../ui/GlassCard";
import { StatusChip } from "../ui/StatusChip";
import { formatPercent } from "../ui/format";
import { DiffView } from "./DiffView";
import { useReview, useReviewDecision, type ReviewDecision } from "./queries";

function FileEditor({ review, onSave, onCancel, busy }: { review: ReviewDetail; onSave: (files: TaskFile[]) => void; onCancel: () => void; busy: boolean }) {
  const files = useTaskFiles(review.masterplan_id, review.task_id);
  const [edited, setEdited] = useState<Record<string, string>>({});
  if (files.isPending) return <p className="muted">Loading files…</p>;
  if (files.error) return <p className="error-text">{files.error.message}</p>;
  const current = files.data.map((file) => ({ path: file.path, content: edited[file.path] ?? file.content }));
  return (
    <div style={{ display: "grid", gap: "0.5rem" }}>
      {current.map((file) => (
        <label key={file.path}>
          {file.path}
          <textarea rows={12} value={file.content} spellCheck={false} onChange={(event) => setEdited((value) => ({ ...value, [file.path]: event.target.value }))} />
        </label>
      ))}
      <div className="row">
        <GlassButton variant="primary" disabled={busy} onClick={() => onSave(current.filter((file) => file.path in edited))}>
          Save edits
        </GlassButton>
        <GlassButton onClick={onCancel}>Discard</GlassButton>
      </div>
    </div>
  );
}

function Decisions({ review }: { review: ReviewDetail }) {
  const decision = useReviewDecision(review.id);
  const [mode, setMode] = useState<"reject" | "regenerate" | "edit" | null>(null);
  const [feedback, setFeedback] = useState("");
  const decide = (value: ReviewDecision) => decision.mutate(value, { onSuccess: () => setMode(null) });
  if (review.status !== "pending") return <p className="muted">Decided: {review.status.replace(/_/g, " ")}.</p>;
  return (
    <div style={{ display: "grid", gap: "0.5rem" }}>
      <div className="row" role="group" aria-label="Review decision">
        <GlassButton variant="primary" disabled={decision.isPending} onClick={() => decide({ kind: "approve" })}>
          Approve
        </GlassButton>
        <GlassButton variant="danger" aria-pressed={mode === "reject"} onClick={() => setMode("reject")}>
          Reject
        </GlassButton>
        <GlassButton aria-pressed={mode === "edit"} onClick={() => setMode("edit")}>
          Edit files
        </GlassButton>
        <GlassButton aria-pressed={mode === "regenerate"} onClick={() => setMode("regenerate")}>
          Regenerate
        </GlassButton>
      </div>
      {(mode === "reject" || mode === "regenerate") && (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            decide({ kind: mode, feedback: feedback.trim() });
          }}
          style={{ display: "grid", gap: "0.5rem" }}
        >
          <label>
            {mode === "reject" ? "Why is this result rejected?" : "What should the regeneration do differently?"}
            <textarea rows={3} value={feedback} onChange={(event) => setFeedback(event.target.value)} required />
          </label>
          <GlassButton type="submit" variant={mode === "reject" ? "danger" : "primary"} disabled={decision.isPending || feedback.trim() === ""}>
            {mode === "reject" ? "Reject with feedback" : "Regenerate with feedback"}
          </GlassButton>
        </form>
      )}
      {mode === "edit" && <FileEditor review={review} busy={decision.isPending} onSave={(files) => decide({ kind: "edit", files })} onCancel={() => setMode(null)} />}
      {decision.error && (
        <p className="error-text" role="alert">
          {decision.error.message}
        </p>
      )}
    </div>
  );
}

/** One review: the task, its confidence, suggestions, validation logs, the diff and the decisions. */
export function ReviewPanel({ reviewId }: { reviewId: string }) {
  const review = useReview(reviewId);
  if (review.isPending) return <GlassCard>Loading review…</GlassCard>;
  if (review.error) return <GlassCard className="error-text">{review.error.message}</GlassCard>;
  const data = review.data;
  // The parts of the confidence score (weights and other details are left out).
  const scores = Object.entries(data.confidence_parts).filter((entry): entry is [string, number] => typeof entry[1] === "number");
  return (
    <GlassCard aria-labelledby="review-title">
      <h2 id="review-title">
        Task #{data.task_number}: {data.task_name}
      </h2>
      <div className="row">
        <StatusChip status={data.status} />
        <span className="tag">{data.priority} priority</span>
        <span>Confidence {formatPercent(data.confidence)}</span>
      </div>
      {scores.length > 0 && (
        <dl className="facts" aria-label="Confidence parts" style={{ marginTop: "0.5rem" }}>
          {scores.map(([part, value]) => (
            <div key={part} style={{ display: "contents" }}>
              <dt>{part.replace(/_/g, " ")}</dt>
              <dd>{formatPercent(value)}</dd>
            </div>
          ))}
        </dl>
      )}
      {data.errors.length > 0 && (
        <ul className="error-text">
          {data.errors.map((message, index) => (
            <li key={index}>{message}</li>
          ))}
        </ul>
      )}
      {data.suggestions.length > 0 && (
        <>
          <h3 style={{ marginTop: "0.75rem" }}>Suggestions</h3>
          <ul>
            {data.suggestions.map((suggestion, index) => (
              <li key={index}>{suggestion}</li>
            ))}
          </ul>
        </>
      )}
      {data.validation_logs && (
        <details>
          <summary>Validation logs</summary>
          <pre className="file">{data.validation_logs}</pre>
        </details>
      )}
      <h3 style={{ marginTop: "0.75rem" }}>Diff</h3>
      <DiffView diff={data.diff} />
      <div style={{ marginTop: "0.75rem" }}>
        <Decisions review={data} />
      </div>
    </GlassCard>
  );
}
