import { Link } from "react-router-dom";
import { Modal } from "../ui/Modal";
import { StatusChip } from "../ui/StatusChip";
import type { GenerationProgress, GenerationStage } from "./generation";

const STEPS: { stage: Exclude<GenerationStage, "queued">; label: string }[] = [
  { stage: "discovery", label: "Discovery: understanding the domain" },
  { stage: "planning", label: "Planning: phases, milestones and tasks" },
  { stage: "complete", label: "Plan stored as a draft" },
];
const ORDER: GenerationStage[] = ["queued", "discovery", "planning", "complete"];

function stepStatus(step: GenerationStage, current: GenerationStage): string {
  const stepIndex = ORDER.indexOf(step);
  const currentIndex = ORDER.indexOf(current);
  if (current === "complete" || stepIndex < currentIndex) return "completed";
  return stepIndex === currentIndex ? "in_progress" : "pending";
}

export function GenerationModal({
  progress,
  fallbackPlanId,
  onClose,
}: {
  progress: GenerationProgress;
  fallbackPlanId: string | null;
  onClose: () => void;
}) {
  const planId = progress.masterplanId ?? fallbackPlanId;
  return (
    <Modal title="Generating a masterplan" onClose={onClose}>
      <ol className="steps" aria-label="Generation progress">
        {STEPS.map((step) => (
          <li key={step.stage}>
            <StatusChip status={stepStatus(step.stage, progress.stage)} />
            <span>{step.label}</span>
          </li>
        ))}
      </ol>
      {progress.discoveryNote && <p className="muted">Discovery: {progress.discoveryNote}</p>}
      <p aria-live="polite">
        Tokens generated: <strong data-testid="token-counter">{progress.tokens.toLocaleString()}</strong>
      </p>
      {progress.stage === "complete" && planId && (
        <p className="notice notice--success">
          The plan is ready for review. <Link to={`/plans/${planId}`}>Open the plan</Link>
        </p>
      )}
    </Modal>
  );
}
