import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import { fromSocket, mergeLog, stringField, type LiveEvent } from "../realtime/events";
import { useRealtime } from "../realtime/RealtimeContext";
import { BATCH_MS } from "../realtime/useMasterplanEvents";
import { initialGeneration, isGenerationEvent, reduceGeneration, type GenerationProgress } from "./generation";
import { chatKeys } from "./queries";

interface StreamingMessage {
  id: string;
  text: string;
}

interface ActiveGeneration {
  /** Conversation seq at the moment of sending: earlier generation events belong to older runs. */
  afterSeq: number;
  generationId: string | null;
}

function chunkText(event: LiveEvent): string {
  return stringField(event, "delta") ?? stringField(event, "content") ?? stringField(event, "text") ?? "";
}

/** Rebuilds the replies being streamed now from their chunks (ordered by seq), minus finished ones. */
function streamingMessages(log: readonly LiveEvent[]): StreamingMessage[] {
  const texts = new Map<string, string>();
  for (const event of log) {
    const id = stringField(event, "message_id");
    if (id === undefined) continue;
    if (event.type === "message_chunk") texts.set(id, (texts.get(id) ?? "") + chunkText(event));
    if (event.type === "message_complete") texts.delete(id);
  }
  return [...texts].map(([id, text]) => ({ id, text }));
}

function belongsTo(event: LiveEvent, active: ActiveGeneration): boolean {
  if (event.seq <= active.afterSeq) return false;
  const generationId = stringField(event, "generation_id");
  return generationId === undefined || active.generationId === null || generationId === active.generationId;
}

/**
 * Joins a conversation's room: streams assistant replies chunk by chunk and follows the
 * generation started by a `/masterplan` message.
 */
export function useConversationEvents(conversationId: string | undefined) {
  const realtime = useRealtime();
  const queryClient = useQueryClient();
  // The log is kept with the conversation it belongs to, so switching conversations starts empty.
  const [stream, setStream] = useState<{ conversationId?: string; log: readonly LiveEvent[] }>({ log: [] });
  const log = stream.conversationId === conversationId ? stream.log : [];
  const [active, setActive] = useState<ActiveGeneration | null>(null);
  const lastSeq = useRef(0);

  useEffect(() => {
    lastSeq.current = 0;
    if (conversationId === undefined) return;
    let buffer: LiveEvent[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = (): void => {
      timer = undefined;
      const batch = buffer;
      buffer = [];
      setStream((current) => ({ conversationId, log: mergeLog(current.conversationId === conversationId ? current.log : [], batch) }));
      if (batch.some((event) => event.type === "message_complete")) {
        void queryClient.invalidateQueries({ queryKey: chatKeys.messages(conversationId) });
      }
    };
    const stopListening = realtime.onEvent((type, payload) => {
      const event = fromSocket(type, payload);
      if (!event || event.data.conversation_id !== conversationId) return;
      lastSeq.current = Math.max(lastSeq.current, event.seq);
      buffer.push(event);
      timer ??= setTimeout(flush, BATCH_MS);
    });
    const leave = realtime.join({ kind: "conversation", id: conversationId, lastSeq: () => lastSeq.current });
    return () => {
      stopListening();
      leave();
      clearTimeout(timer);
    };
  }, [conversationId, queryClient, realtime]);

  /** A new conversation's room has no older generations, so everything in it counts. */
  const startGeneration = useCallback(
    (inNewConversation: boolean) => setActive({ afterSeq: inNewConversation ? 0 : lastSeq.current, generationId: null }),
    [],
  );
  const identifyGeneration = useCallback(
    (generationId: string | null) => setActive((current) => current && { ...current, generationId }),
    [],
  );
  const closeGeneration = useCallback(() => setActive(null), []);

  const generation: GenerationProgress | null = active
    ? reduceGeneration(
        initialGeneration,
        log.filter((event) => isGenerationEvent(event.type) && belongsTo(event, active)),
      )
    : null;

  return {
    streaming: streamingMessages(log),
    generation,
    generationId: active?.generationId ?? null,
    startGeneration,
    identifyGeneration,
    closeGeneration,
  };
}
