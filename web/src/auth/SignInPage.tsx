import { useState, type FormEvent } from "react";
import { GlassButton } from "../ui/GlassButton";
import { GlassCard } from "../ui/GlassCard";
import { signIn } from "./session";

/** Shown after a 401: asks for the API token (printed by `masterplan serve`). */
export function SignInPage({ onSignedIn }: { onSignedIn: () => void }) {
  const [token, setToken] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    signIn(token);
    onSignedIn();
  };
  return (
    <main id="main" style={{ maxWidth: 480, marginTop: "10vh" }}>
      <GlassCard heading="Sign in to masterplan">
        <p className="muted">The server needs an access token. A local install prints a sign-in link with the token when it starts.</p>
        <form onSubmit={submit} style={{ display: "grid", gap: "0.75rem" }}>
          <label>
            Access token
            <input type="password" autoComplete="current-password" value={token} onChange={(event) => setToken(event.target.value)} required autoFocus />
          </label>
          <GlassButton type="submit" variant="primary" disabled={token.trim() === ""}>
            Sign in
          </GlassButton>
        </form>
      </GlassCard>
    </main>
  );
}
