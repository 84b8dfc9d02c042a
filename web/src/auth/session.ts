// The API token lives in localStorage; a 401 flips `signedOut` so the app shows the sign-in page.
const TOKEN_KEY = "masterplan.token";

type Listener = () => void;
const listeners = new Set<Listener>();
let signedOut = false;

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

/** Stores a `?token=` given once in the URL and removes it from the address bar. */
export function captureTokenFromUrl(): void {
  const url = new URL(window.location.href);
  const token = url.searchParams.get("token");
  if (!token) return;
  signIn(token);
  url.searchParams.delete("token");
  window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
}
