import { api, unwrap } from "../api/client";
import { markSignedOut, signIn, signInWithGrant, takeUrlParameter } from "./session";

/**
 * Takes the credentials a sign-in link carries, once, out of the address bar: `?token=` (an API
 * token, printed by `masterplan serve`) or `?signin=` (a one-time code, exchanged for a session).
 */
export async function startSession(): Promise<void> {
  const token = takeUrlParameter("token");
  if (token) signIn(token);
  const code = takeUrlParameter("signin");
  if (!code) return;
  try {
    signInWithGrant(await unwrap(api.POST("/api/v1/auth/signin-code", { body: { code } })));
  } catch {
    markSignedOut();
  }
}
