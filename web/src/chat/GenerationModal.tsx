import { Link } from "react-router-dom";
import { Modal } from "../ui/Modal";
import { StatusChip } from "../ui/StatusChip";
import { STAGE_ORDER, type GenerationProgress, type GenerationStage } from "./generation";

const STEPS: { stage: GenerationStage; label: string }[] = [
  { stage: "discovery", label: "Discovery: understanding the domain" },
  { stage: "planning", label: "Planning: phases, milestones and tasks" },
  { stage: "complete", label: "Plan stored as a draft" },
];

function stepStatus(step: GenerationStage, progress: GenerationProgress, done: boolean): string {
  if (done) return "completed";
  const difference = STAGE_ORDER.indexOf(step) - STAGE_ORDER.indexOf(progress.stage);
  if (difference < 0) return "completed";
  if (difference > 0) return "pending";
  return progress.error ? "failed" : "in_progress";
}

/**
 * Discovery, then planning with a live token count, then a link to the new plan. `planFromReply` is
 * the plan named by the assistant's final message, in case the completion event was missed.
 */
export function GenerationModal({ progress, planFromReply, onClose }: { progress: GenerationProgress; planFromReply: string | null; onClose: () => void }) {
  const planId = progress.masterplanId ?? planFromReply;
  const done = !progress.error && (progress.stage === "complete" || planFromReply !== null);
  return (
    <Modal title="Generating a masterplan" onClose={onClose}>
      <ol className="steps" aria-label="Generation progress">
        {STEPS.map((step) => (
          <li key={step.stage}>
            <StatusChip status={stepStatus(step.stage, progress, done)} />
            <span>{step.label}</span>
          </li>
        ))}
      </ol>
      {progress.discoveryNote && <p className="muted">Discovery: {progress.discoveryNote}</p>}
      <p aria-live="polite">
        Tokens generated: <strong data-testid="token-counter">{progress.tokens.toLocaleString()}</strong>
      </p>
      {progress.error && (
        <p className="notice notice--danger" role="alert">
          Generation failed: {progress.error}
        </p>
      )}
      {done && planId && (
        <p className="notice notice--success">
          The plan is ready for review. <Link to={`/plans/${planId}`}>Open the plan</Link>
        </p>
      )}
    </Modal>
  );
}
