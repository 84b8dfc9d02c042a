import createClient from "openapi-fetch";
import type { paths } from "./schema";
import { getToken, markSignedOut, refreshAccessToken } from "../auth/session";

/** An API failure carrying the server's `{error: {code, message}}` body when there is one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

// fetch is looked up at call time so tests can stub it.
export const api = createClient<paths>({ baseUrl: window.location.origin, fetch: (request) => globalThis.fetch(request) });

api.use({
  onRequest({ request }) {
    const token = getToken();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  async onResponse({ request, response }) {
    if (response.status !== 401 || new URL(request.url).pathname.startsWith("/api/v1/auth/")) return response;
    // An expired access token: renew it once, then repeat a read (a write is left for the user to repeat).
    if (!(await refreshAccessToken())) {
      markSignedOut();
      return response;
    }
    if (request.method !== "GET") return response;
    const retry = new Request(request);
    retry.headers.set("Authorization", `Bearer ${getToken()}`);
    return globalThis.fetch(retry);
  },
});

interface Result<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

function errorMessage(error: unknown): { code: string; message: string } | undefined {
  if (typeof error !== "object" || error === null || !("error" in error)) return undefined;
  const inner = (error as { error: unknown }).error;
  if (typeof inner !== "object" || inner === null) return undefined;
  const { code, message } = inner as { code?: unknown; message?: unknown };
  return { code: String(code ?? "error"), message: String(message ?? "Request failed") };
}

/** Returns the data of a successful call or throws an ApiError with the server's message. */
export async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok && data !== undefined) return data;
  const parsed = errorMessage(error);
  throw new ApiError(
    response.status,
    parsed?.code ?? String(response.status),
    parsed?.message ?? `${response.status} ${response.statusText}`.trim(),
  );
}
