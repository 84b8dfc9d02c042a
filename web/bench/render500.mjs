// Measures, in Debian's chromium, how fast a 500-task plan's detail page becomes usable after its
// data arrives, and whether 100 events per second over Socket.IO keep the page responsive.
// Serves the built UI (web/dist), the plan and the events itself: no backend needed.
// Usage: npm run build && node bench/render500.mjs   (prints the figures)
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join } from "node:path";
import { chromium } from "playwright-core";
import { Server } from "socket.io";
import { createServer as createVite } from "vite";

const TASKS = 500;
const EVENTS_PER_SECOND = 100;
const IDLE_MS = 2000;
const root = new URL("..", import.meta.url).pathname;
const dist = join(root, "dist");
if (!existsSync(join(dist, "index.html"))) throw new Error("web/dist is missing: run `npm run build` first");

// The same fixtures as the unit tests, loaded through vite so they stay TypeScript.
const vite = await createVite({ root, logLevel: "error", server: { middlewareMode: true }, appType: "custom" });
const { makePlan, executionEvents } = await vite.ssrLoadModule("/src/test/planFixture.ts");
await vite.close();
const plan = makePlan(TASKS, { status: "approved" });
const events = executionEvents(TASKS, (n) => (n % 50 === 0 ? "failed" : "completed"));

const types = { ".js": "text/javascript", ".css": "text/css", ".html": "text/html" };
const http = createServer((req, res) => {
  const path = new URL(req.url, "http://bench").pathname;
  if (path === `/api/v1/masterplans/${plan.id}`) {
    res.writeHead(200, { "content-type": "application/json" });
    return res.end(JSON.stringify(plan));
  }
  if (path.startsWith("/api/")) {
    res.writeHead(404, { "content-type": "application/json" });
    return res.end(JSON.stringify({ error: { code: "not_found", message: path } }));
  }
  const file = join(dist, path);
  const isFile = path !== "/" && existsSync(file) && !path.endsWith("/");
  res.writeHead(200, { "content-type": types[extname(isFile ? file : "index.html")] ?? "application/octet-stream" });
  res.end(readFileSync(isFile ? file : join(dist, "index.html")));
});

let lastEmitAt = 0;
let streamStartAt = 0;
let emitted = 0;
const streamDone = new Promise((resolve) => {
  const io = new Server(http, { path: "/socket.io" });
  io.on("connection", (socket) =>
    // Idle first, so the page's frame rate without events is measured too.
    socket.on("join_masterplan", () => setTimeout(() => {
      streamStartAt = Date.now();
      const started = Date.now();
      const timer = setInterval(() => {
        // Catch up to the target rate: timers here fire late under load.
        const due = Math.min(events.length, Math.floor(((Date.now() - started) / 1000) * EVENTS_PER_SECOND) + 1);
        while (emitted < due) {
          const event = events[emitted++];
          socket.emit(event.type, { ...event.data, timestamp: event.timestamp, trace_id: "bench" });
        }
        if (emitted === events.length) {
          lastEmitAt = Date.now();
          clearInterval(timer);
          resolve({ seconds: (lastEmitAt - started) / 1000 });
        }
      }, 1000 / EVENTS_PER_SECOND);
    }, IDLE_MS)),
  );
});
await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${http.address().port}`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
const errors = [];
page.on("pageerror", (error) => errors.push(error.message));
await page.addInitScript((lastTask) => {
  const bench = (window.__bench = { frames: [], longTasks: [], rowsAt: null, doneAt: null });
  // Frame times are kept on the wall clock so they can be split at the moment the stream started.
  let previous = performance.now();
  const frame = (now) => {
    bench.frames.push({ at: performance.timeOrigin + now, gap: now - previous });
    previous = now;
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  new PerformanceObserver((list) => list.getEntries().forEach((entry) => bench.longTasks.push({ at: entry.startTime, ms: entry.duration }))).observe({ type: "longtask", buffered: true });
  new MutationObserver(() => {
    if (bench.rowsAt === null && document.querySelector(`[data-testid="task-${lastTask}"]`)) bench.rowsAt = performance.now();
    if (bench.doneAt === null && document.querySelector('[data-testid="completion-notice"]')) bench.doneAt = Date.now();
  }).observe(document, { subtree: true, childList: true, attributes: true });
}, TASKS);

await page.goto(`${base}/plans/${plan.id}`);
await page.waitForSelector(`[data-testid="task-${TASKS}"]`);
const render = await page.evaluate((id) => {
  const response = performance.getEntriesByType("resource").find((entry) => entry.name.endsWith(`/api/v1/masterplans/${id}`));
  return { responseEnd: response.responseEnd, rowsAt: window.__bench.rowsAt };
}, plan.id);
// From the click to the next frame with the task's details on screen, measured inside the page.
const clickMs = await page.evaluate(
  () =>
    new Promise((resolve) => {
      const start = performance.now();
      document.querySelector('[data-testid="task-1"] button').click();
      const check = () => (document.getElementById("task-task-1-details") ? resolve(performance.now() - start) : requestAnimationFrame(check));
      requestAnimationFrame(check);
    }),
);

const idleFrom = Date.now();
const stream = await streamDone;
await page.waitForSelector('[data-testid="completion-notice"]', { timeout: 60_000 });
const live = await page.evaluate(
  ([idleFrom, streamFrom, streamTo]) => {
  const gaps = (from, to) => window.__bench.frames.filter((frame) => frame.at > from && frame.at <= to).map((frame) => frame.gap).sort((a, b) => a - b);
  const stats = (frames) => {
    const pick = (q) => frames[Math.min(frames.length - 1, Math.floor(q * frames.length))] ?? 0;
    return { frames: frames.length, p50: pick(0.5), p95: pick(0.95), max: frames.at(-1) ?? 0 };
  };
  const long = window.__bench.longTasks.filter((task) => performance.timeOrigin + task.at > streamFrom);
  return {
    doneAt: window.__bench.doneAt,
    idle: stats(gaps(idleFrom, streamFrom)),
    stream: stats(gaps(streamFrom, streamTo)),
    longTasks: long.length,
    longTaskMs: long.reduce((sum, task) => sum + task.ms, 0),
    completed: document.querySelectorAll("[data-status='completed']").length,
    failed: document.querySelectorAll("[data-status='failed']").length,
  };
  },
  [idleFrom, streamStartAt, lastEmitAt],
);
await browser.close();
http.close();

const f = (value) => value.toFixed(1);
console.log(`500-task plan detail: all ${TASKS} rows rendered ${f(render.rowsAt - render.responseEnd)} ms after the response arrived; a task opens ${f(clickMs)} ms after a click`);
console.log(`events: ${events.length} sent in ${f(stream.seconds)} s (${f(events.length / stream.seconds)}/s); last one on screen ${live.doneAt - lastEmitAt} ms after it was sent`);
const frames = (label, s) => `${label}: ${s.frames} frames, gap p50 ${f(s.p50)} ms, p95 ${f(s.p95)} ms, max ${f(s.max)} ms`;
console.log(`${frames("idle page", live.idle)}\n${frames("during the stream", live.stream)}; long tasks ${live.longTasks} (${f(live.longTaskMs)} ms in total)`);
console.log(`final state: ${live.completed} completed, ${live.failed} failed task rows (expected ${TASKS - TASKS / 50} and ${TASKS / 50})`);
if (errors.length > 0) {
  console.error("page errors:", errors);
  process.exitCode = 1;
}
