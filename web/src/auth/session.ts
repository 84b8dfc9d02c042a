import type { components } from "../api/schema";

// The bearer token (an API token, or a short-lived access token from a sign-in) lives in
// localStorage; a 401 that a refresh cannot fix flips `signedOut` so the app shows the sign-in page.
const TOKEN_KEY = "masterplan.token";
const REFRESH_MARGIN_SECONDS = 60;

type TokenResponse = components["schemas"]["TokenResponse"];
type Listener = () => void;
const listeners = new Set<Listener>();
let signedOut = false;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let refreshing: Promise<boolean> | null = null;

function notify(): void {
  for (const listener of listeners) listener();
}

export function getToken(): string | null {
  return localStorage.getItem(TOKEN_KEY);
}

export function signIn(token: string): void {
  localStorage.setItem(TOKEN_KEY, token.trim());
  signedOut = false;
  notify();
}

/** Keeps a session from a sign-in and renews its access token shortly before it expires. */
export function signInWithGrant(grant: TokenResponse): void {
  signIn(grant.access_token);
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => void refreshAccessToken(), Math.max(5, grant.expires_in - REFRESH_MARGIN_SECONDS) * 1000);
}

/** Asks for a new access token with the HttpOnly refresh cookie; false when there is no live session. */
export function refreshAccessToken(): Promise<boolean> {
  refreshing ??= fetch("/api/v1/auth/refresh", { method: "POST" })
    .then(async (response) => {
      if (!response.ok) return false;
      signInWithGrant((await response.json()) as TokenResponse);
      return true;
    })
    .catch(() => false)
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

export function markSignedOut(): void {
  if (signedOut) return;
  signedOut = true;
  notify();
}

export function isSignedOut(): boolean {
  return signedOut;
}

export function subscribeSession(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Removes a query parameter from the address bar and returns its value. */
export function takeUrlParameter(name: string): string | null {
  const url = new URL(window.location.href);
  const value = url.searchParams.get(name);
  if (value === null) return null;
  url.searchParams.delete(name);
  window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
  return value;
}
