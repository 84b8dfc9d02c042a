import { numberField, stringField, type LiveEvent } from "../realtime/events";

export type GenerationStage = "queued" | "discovery" | "planning" | "complete";

export interface GenerationProgress {
  /** The furthest stage reached. */
  stage: GenerationStage;
  tokens: number;
  discoveryNote: string | null;
  discoveryNoteSeq: number;
  masterplanId: string | null;
  /** Set when the generation failed, in `stage`. */
  error: string | null;
}

export const initialGeneration: GenerationProgress = {
  stage: "queued",
  tokens: 0,
  discoveryNote: null,
  discoveryNoteSeq: 0,
  masterplanId: null,
  error: null,
};

const STAGE_OF: Record<string, GenerationStage | null> = {
  discovery_start: "discovery",
  discovery_progress: "discovery",
  discovery_complete: "planning",
  masterplan_generation_start: "planning",
  masterplan_tokens_progress: "planning",
  masterplan_generation_complete: "complete",
  masterplan_generation_failed: null,
};
export const STAGE_ORDER: readonly GenerationStage[] = ["queued", "discovery", "planning", "complete"];

export function isGenerationEvent(type: string): boolean {
  return type in STAGE_OF;
}

/**
 * Folds generation events into progress. The stage only moves forward, the token count only grows,
 * the note is the newest by seq and a failure stays, so delivery order and replays do not change the result.
 */
export function reduceGeneration(state: GenerationProgress, events: readonly LiveEvent[]): GenerationProgress {
  let { stage, tokens, discoveryNote, discoveryNoteSeq, masterplanId, error } = state;
  for (const event of events) {
    const next = STAGE_OF[event.type];
    if (next === undefined) continue;
    if (next !== null && STAGE_ORDER.indexOf(next) > STAGE_ORDER.indexOf(stage)) stage = next;
    tokens = Math.max(tokens, numberField(event, "tokens") ?? 0);
    const note = stringField(event, "message") ?? stringField(event, "domain");
    if (event.type.startsWith("discovery") && note && event.seq > discoveryNoteSeq) {
      discoveryNote = note;
      discoveryNoteSeq = event.seq;
    }
    if (event.type === "masterplan_generation_complete") masterplanId = stringField(event, "masterplan_id") ?? masterplanId;
    if (event.type === "masterplan_generation_failed") error = stringField(event, "error") ?? stringField(event, "message") ?? "generation failed";
  }
  return { stage, tokens, discoveryNote, discoveryNoteSeq, masterplanId, error };
}
