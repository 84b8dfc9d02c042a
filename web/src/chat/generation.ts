import { numberField, stringField, type LiveEvent } from "../realtime/events";

export type GenerationStage = "queued" | "discovery" | "planning" | "complete";

export interface GenerationProgress {
  stage: GenerationStage;
  tokens: number;
  discoveryNote: string | null;
  discoveryNoteSeq: number;
  masterplanId: string | null;
}

export const initialGeneration: GenerationProgress = { stage: "queued", tokens: 0, discoveryNote: null, discoveryNoteSeq: 0, masterplanId: null };

const STAGE_OF: Record<string, GenerationStage> = {
  discovery_start: "discovery",
  discovery_progress: "discovery",
  discovery_complete: "planning",
  masterplan_generation_start: "planning",
  masterplan_tokens_progress: "planning",
  masterplan_generation_complete: "complete",
};
const RANK: Record<GenerationStage, number> = { queued: 0, discovery: 1, planning: 2, complete: 3 };

export function isGenerationEvent(type: string): boolean {
  return type in STAGE_OF;
}

/**
 * Folds generation events into progress. Stage only moves forward, the token count only grows
 * and the note is the newest by seq, so delivery order and replays do not change the result.
 */
export function reduceGeneration(state: GenerationProgress, events: readonly LiveEvent[]): GenerationProgress {
  let { stage, tokens, discoveryNote, discoveryNoteSeq, masterplanId } = state;
  for (const event of events) {
    const next = STAGE_OF[event.type];
    if (next === undefined) continue;
    if (RANK[next] > RANK[stage]) stage = next;
    tokens = Math.max(tokens, numberField(event, "tokens") ?? 0);
    const note = stringField(event, "message") ?? stringField(event, "domain");
    if (event.type.startsWith("discovery") && note && event.seq > discoveryNoteSeq) {
      discoveryNote = note;
      discoveryNoteSeq = event.seq;
    }
    if (event.type === "masterplan_generation_complete") masterplanId = stringField(event, "masterplan_id") ?? masterplanId;
  }
  return { stage, tokens, discoveryNote, discoveryNoteSeq, masterplanId };
}
