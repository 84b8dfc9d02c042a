import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useEffect, useState, useSyncExternalStore, type ReactNode } from "react";
import { BrowserRouter, Navigate, NavLink, Route, Routes } from "react-router-dom";
import { ApiError } from "./api/client";
import { getToken, isSignedOut, subscribeSession } from "./auth/session";
import { SignInPage } from "./auth/SignInPage";
import { ChatPage } from "./chat/ChatPage";
import { MetricsPage } from "./metrics/MetricsPage";
import { PlanDetailPage } from "./plans/PlanDetailPage";
import { PlansListPage } from "./plans/PlansListPage";
import { createRealtime } from "./realtime/client";
import { RealtimeProvider, useConnected } from "./realtime/RealtimeContext";
import { ReviewQueuePage } from "./reviews/ReviewQueuePage";

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // A 4xx will not change by asking again.
        retry: (failures, error) => !(error instanceof ApiError && error.status < 500) && failures < 2,
        refetchOnWindowFocus: false,
      },
    },
  });
}

function RealtimeConnection({ children }: { children: ReactNode }) {
  const [realtime] = useState(() => createRealtime(getToken));
  useEffect(() => {
    realtime.open();
    return () => realtime.close();
  }, [realtime]);
  return <RealtimeProvider realtime={realtime}>{children}</RealtimeProvider>;
}

function ConnectionState() {
  const connected = useConnected();
  return (
    <span className="connection muted" role="status">
      <span className={`chip chip--${connected ? "completed" : "pending"}`}>{connected ? "live" : "offline"}</span>
    </span>
  );
}

function Layout() {
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">masterplan</span>
        <nav aria-label="Main">
          <NavLink to="/chat">Chat</NavLink>
          <NavLink to="/plans">Plans</NavLink>
          <NavLink to="/reviews">Reviews</NavLink>
          <NavLink to="/metrics">Metrics</NavLink>
        </nav>
        <ConnectionState />
      </header>
      <main id="main">
        <Routes>
          <Route path="/" element={<Navigate to="/chat" replace />} />
          <Route path="/chat/:conversationId?" element={<ChatPage />} />
          <Route path="/plans" element={<PlansListPage />} />
          <Route path="/plans/:planId" element={<PlanDetailPage />} />
          <Route path="/reviews" element={<ReviewQueuePage />} />
          <Route path="/metrics" element={<MetricsPage />} />
          <Route path="*" element={<p>Page not found.</p>} />
        </Routes>
      </main>
    </>
  );
}

export function App({ queryClient }: { queryClient: QueryClient }) {
  const signedOut = useSyncExternalStore(subscribeSession, isSignedOut);
  if (signedOut) return <SignInPage onSignedIn={() => queryClient.clear()} />;
  return (
    <QueryClientProvider client={queryClient}>
      <RealtimeConnection>
        <BrowserRouter>
          <Layout />
        </BrowserRouter>
      </RealtimeConnection>
    </QueryClientProvider>
  );
}
