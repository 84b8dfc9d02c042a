import { hashKey, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import type { MasterplanDetail } from "../api/types";
import { planKeys } from "../plans/keys";
import { fromSocket, type LiveEvent } from "./events";
import { applyPlanEvents, emptyMeta } from "./planReducer";
import { useRealtime } from "./RealtimeContext";

/** Events arriving within this window are applied together: one cache write and one render. */
export const BATCH_MS = 50;

/**
 * Whether an event is one of the plan's own stream. Its seq numbers are only comparable with the
 * plan's when the event says so: a generation event on a conversation stream also carries a
 * masterplan_id, but with the conversation's seq. Events without a `stream` fall back to masterplan_id.
 */
export function belongsToPlan(event: LiveEvent, masterplanId: string): boolean {
  const stream = event.data.stream;
  if (typeof stream === "string") return stream === `masterplan:${masterplanId}`;
  return event.data.masterplan_id === masterplanId;
}

/**
 * Joins the plan's room (replaying from the last seen seq) once the plan is in the cache,
 * and folds its events into the cached plan. Returns the ordered event log.
 *
 * A snapshot fetched later (after an action) may have been read before events the page already
 * applied; the log is replayed onto it, so a refetch never moves a task back.
 */
export function useMasterplanEvents(masterplanId: string, planLoaded: boolean): readonly LiveEvent[] {
  const realtime = useRealtime();
  const queryClient = useQueryClient();
  // Kept with the plan it belongs to, so opening another plan starts from an empty log.
  const [stream, setStream] = useState<{ masterplanId?: string; log: readonly LiveEvent[] }>({ log: emptyMeta.log });

  useEffect(() => {
    if (!planLoaded) return;
    const key = planKeys.detail(masterplanId);
    let meta = emptyMeta;
    let buffer: LiveEvent[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;

    const flush = (): void => {
      timer = undefined;
      const plan = queryClient.getQueryData<MasterplanDetail>(key);
      if (!plan) return;
      const batch = buffer;
      buffer = [];
      const result = applyPlanEvents(plan, meta, batch);
      meta = result.meta;
      if (result.plan !== plan) queryClient.setQueryData(key, result.plan);
      setStream({ masterplanId, log: meta.log });
      if (result.plan.status !== plan.status) void queryClient.invalidateQueries({ queryKey: planKeys.lists });
      if (batch.some((event) => event.type === "review_created")) void queryClient.invalidateQueries({ queryKey: ["reviews"] });
    };

    const stopWatchingFetches = queryClient.getQueryCache().subscribe((cacheEvent) => {
      const { action } = cacheEvent.type === "updated" ? cacheEvent : { action: undefined };
      if (action?.type !== "success" || action.manual || cacheEvent.query.queryHash !== hashKey(key)) return;
      const snapshot = action.data as MasterplanDetail | undefined;
      if (!snapshot || meta.log.length === 0) return;
      const result = applyPlanEvents(snapshot, { ...meta, versions: {} }, meta.log);
      meta = result.meta;
      queryClient.setQueryData(key, result.plan);
    });
    const stopListening = realtime.onEvent((type, payload) => {
      const event = fromSocket(type, payload);
      if (!event || !belongsToPlan(event, masterplanId)) return;
      buffer.push(event);
      timer ??= setTimeout(flush, BATCH_MS);
    });
    const leave = realtime.join({
      kind: "masterplan",
      id: masterplanId,
      lastSeq: () => buffer.reduce((max, event) => Math.max(max, event.seq), meta.lastSeq),
    });
    return () => {
      stopWatchingFetches();
      stopListening();
      leave();
      clearTimeout(timer);
    };
  }, [masterplanId, planLoaded, queryClient, realtime]);

  return stream.masterplanId === masterplanId ? stream.log : emptyMeta.log;
}
