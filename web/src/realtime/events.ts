/** One server event, normalised from a Socket.IO message or from the stored event log. */
export interface LiveEvent {
  type: string;
  seq: number;
  timestamp: string;
  data: Readonly<Record<string, unknown>>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Returns null for messages without a numeric `seq`: they cannot be ordered or deduplicated. */
export function fromSocket(type: string, payload: unknown): LiveEvent | null {
  if (!isRecord(payload) || typeof payload.seq !== "number") return null;
  return { type, seq: payload.seq, timestamp: String(payload.timestamp ?? ""), data: payload };
}

export function numberField(event: LiveEvent, key: string): number | undefined {
  const value = event.data[key];
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

export function stringField(event: LiveEvent, key: string): string | undefined {
  const value = event.data[key];
  return typeof value === "string" ? value : undefined;
}

export function stringListField(event: LiveEvent, key: string): string[] | undefined {
  const value = event.data[key];
  return Array.isArray(value) && value.every((item) => typeof item === "string") ? value : undefined;
}

/** Inserts events into a log sorted by seq, dropping seqs already present. */
export function mergeLog(log: readonly LiveEvent[], events: readonly LiveEvent[]): LiveEvent[] {
  const known = new Set(log.map((event) => event.seq));
  const fresh = events.filter((event) => {
    if (known.has(event.seq)) return false;
    known.add(event.seq);
    return true;
  });
  if (fresh.length === 0) return log as LiveEvent[];
  return [...log, ...fresh].sort((a, b) => a.seq - b.seq);
}
