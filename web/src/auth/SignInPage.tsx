import { useState, type FormEvent } from "react";
import { api, unwrap } from "../api/client";
import { GlassButton } from "../ui/GlassButton";
import { GlassCard } from "../ui/GlassCard";
import { signIn, signInWithGrant } from "./session";

/** Shown after a 401: sign in with email and password, or paste an API token. */
export function SignInPage({ onSignedIn }: { onSignedIn: () => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submitPassword = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      signInWithGrant(await unwrap(api.POST("/api/v1/auth/login", { body: { email, password } })));
      onSignedIn();
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  };
  const submitToken = (event: FormEvent) => {
    event.preventDefault();
    signIn(token);
    onSignedIn();
  };

  return (
    <main id="main" style={{ maxWidth: 480, marginTop: "8vh" }}>
      <GlassCard heading="Sign in to masterplan">
        <form onSubmit={submitPassword} style={{ display: "grid", gap: "0.75rem" }}>
          <label>
            Email
            <input type="email" autoComplete="username" value={email} onChange={(event) => setEmail(event.target.value)} required autoFocus />
          </label>
          <label>
            Password
            <input type="password" autoComplete="current-password" value={password} onChange={(event) => setPassword(event.target.value)} required />
          </label>
          <GlassButton type="submit" variant="primary" disabled={busy}>
            Sign in
          </GlassButton>
          {error && (
            <p className="error-text" role="alert">
              {error}
            </p>
          )}
        </form>
        <p className="muted">A local install prints a link that signs you in; or paste an API token.</p>
        <form onSubmit={submitToken} style={{ display: "grid", gap: "0.75rem" }}>
          <label>
            API token
            <input type="password" autoComplete="off" value={token} onChange={(event) => setToken(event.target.value)} required />
          </label>
          <GlassButton type="submit" disabled={token.trim() === ""}>
            Use this token
          </GlassButton>
        </form>
      </GlassCard>
    </main>
  );
}
