import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { api, ApiError, unwrap } from "../api/client";
import { captureTokenFromUrl, getToken, isSignedOut } from "./session";
import { SignInPage } from "./SignInPage";

describe("session", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("keeps a token given in the URL and removes it from the address bar", () => {
    window.history.replaceState(null, "", "/plans?token=mp_abc&status=draft#top");
    captureTokenFromUrl();
    expect(getToken()).toBe("mp_abc");
    expect(window.location.pathname + window.location.search + window.location.hash).toBe("/plans?status=draft#top");
  });

  it("sends the token and signs out on a 401, then signs in again from the form", async () => {
    const seen: (string | null)[] = [];
    vi.stubGlobal("fetch", async (request: Request) => {
      seen.push(request.headers.get("Authorization"));
      return new Response(JSON.stringify({ error: { code: "unauthorized", message: "authentication required" } }), { status: 401 });
    });
    localStorage.setItem("masterplan.token", "expired");
    const failure = unwrap(api.GET("/api/v1/health"));
    await expect(failure).rejects.toEqual(new ApiError(401, "unauthorized", "authentication required"));
    expect(seen).toEqual(["Bearer expired"]);
    expect(isSignedOut()).toBe(true);

    const onSignedIn = vi.fn();
    render(<SignInPage onSignedIn={onSignedIn} />);
    await userEvent.type(screen.getByLabelText("Access token"), " mp_new ");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(getToken()).toBe("mp_new");
    expect(isSignedOut()).toBe(false);
    expect(onSignedIn).toHaveBeenCalledOnce();
  });
});
