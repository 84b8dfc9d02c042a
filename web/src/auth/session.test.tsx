import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { api, ApiError, unwrap } from "../api/client";
import { getToken, isSignedOut } from "./session";
import { SignInPage } from "./SignInPage";
import { startSession } from "./startSession";

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const grant = (token: string) => ({
  access_token: token,
  token_type: "bearer",
  expires_in: 900,
  refresh_token: "r",
  refresh_expires_at: "2099-01-01T00:00:00Z",
  user: { id: "u", email: "a@b.c", display_name: "A", role: "admin", is_active: true, created_at: "" },
});
const unauthorized = () => json(401, { error: { code: "unauthorized", message: "authentication required" } });

/** Stubs fetch with a function of "METHOD /path" and the Authorization header; records the calls. */
function stubFetch(answer: (call: string, authorization: string | null) => Response) {
  const calls: string[] = [];
  vi.stubGlobal("fetch", async (input: Request | string, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(new URL(input, window.location.origin), init);
    const call = `${request.method} ${new URL(request.url).pathname}`;
    calls.push(`${call} ${request.headers.get("Authorization") ?? "-"}`);
    return answer(call, request.headers.get("Authorization"));
  });
  return calls;
}

describe("session", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("keeps a token given in the URL and removes it from the address bar", async () => {
    window.history.replaceState(null, "", "/plans?token=mp_abc&status=draft#top");
    await startSession();
    expect(getToken()).toBe("mp_abc");
    expect(window.location.pathname + window.location.search + window.location.hash).toBe("/plans?status=draft#top");
  });

  it("exchanges a one-time sign-in code from the URL for a session", async () => {
    const calls = stubFetch((call) => (call === "POST /api/v1/auth/signin-code" ? json(200, grant("jwt-1")) : unauthorized()));
    window.history.replaceState(null, "", "/?signin=code-9");
    await startSession();
    expect(calls).toEqual(["POST /api/v1/auth/signin-code -"]);
    expect(getToken()).toBe("jwt-1");
    expect(window.location.search).toBe("");
  });

  it("renews an expired access token once and repeats the read", async () => {
    localStorage.setItem("masterplan.token", "old");
    const calls = stubFetch((call, authorization) => {
      if (call === "POST /api/v1/auth/refresh") return json(200, grant("new"));
      return authorization === "Bearer new" ? json(200, { status: "ok", version: "1" }) : unauthorized();
    });
    await expect(unwrap(api.GET("/api/v1/health"))).resolves.toEqual({ status: "ok", version: "1" });
    expect(calls).toEqual(["GET /api/v1/health Bearer old", "POST /api/v1/auth/refresh -", "GET /api/v1/health Bearer new"]);
    expect(isSignedOut()).toBe(false);
  });

  it("signs out when the session cannot be renewed, then signs in again from the form", async () => {
    localStorage.setItem("masterplan.token", "expired");
    stubFetch((call) => (call === "POST /api/v1/auth/login" ? json(200, grant("fresh")) : unauthorized()));
    await expect(unwrap(api.GET("/api/v1/health"))).rejects.toEqual(new ApiError(401, "unauthorized", "authentication required"));
    expect(isSignedOut()).toBe(true);

    const onSignedIn = vi.fn();
    render(<SignInPage onSignedIn={onSignedIn} />);
    await userEvent.type(screen.getByLabelText("Email"), "a@b.c");
    await userEvent.type(screen.getByLabelText("Password"), "secret");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(getToken()).toBe("fresh");
    expect(isSignedOut()).toBe(false);
    expect(onSignedIn).toHaveBeenCalledOnce();
  });

  it("accepts a pasted API token", async () => {
    const onSignedIn = vi.fn();
    render(<SignInPage onSignedIn={onSignedIn} />);
    await userEvent.type(screen.getByLabelText("API token"), " mp_new ");
    await userEvent.click(screen.getByRole("button", { name: "Use this token" }));
    expect(getToken()).toBe("mp_new");
    expect(onSignedIn).toHaveBeenCalledOnce();
  });
});
