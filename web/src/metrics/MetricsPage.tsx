import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import type { MetricsSummary } from "../api/types";
import { GlassCard } from "../ui/GlassCard";
import { formatDuration, formatPercent, formatUsd } from "../ui/format";
import { BarChart } from "./BarChart";

// The summary's shape is still settling on the server: every field is read as optional.
type LooseSummary = Partial<MetricsSummary>;

function Figure({ label, value }: { label: string; value: string }) {
  return (
    <GlassCard>
      <div className="muted">{label}</div>
      <div style={{ fontSize: "1.6rem", fontWeight: 700 }}>{value}</div>
    </GlassCard>
  );
}

export function MetricsPage() {
  const summary = useQuery({
    queryKey: ["metrics", "summary"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/metrics/summary", { signal })) as Promise<LooseSummary>,
    refetchInterval: 15_000,
  });
  if (summary.isPending) return <p className="muted">Loading metrics…</p>;
  if (summary.error) return <p className="error-text" role="alert">{summary.error.message}</p>;
  const data = summary.data;
  const plans = data.plans ?? [];
  const byStatus = Object.entries(data.plans_by_status ?? {}).map(([status, count]) => ({ label: status.replace(/_/g, " "), value: count, color: `var(--status-${status}, var(--info))` }));

  return (
    <>
      <h1>Metrics</h1>
      <div className="grid-3">
        <Figure label="Plans" value={String(data.plans_total ?? plans.length)} />
        <Figure label="Task success rate" value={formatPercent(data.task_success_rate)} />
        <Figure label="Retries" value={String(data.total_retries ?? "—")} />
        <Figure label="Total cost" value={formatUsd(data.total_cost_usd)} />
        <Figure label="Mean task duration" value={formatDuration(data.mean_task_duration_seconds)} />
      </div>
      <div className="grid-charts">
        <GlassCard heading="Plans by status">
          <BarChart title="Plans by status" bars={byStatus} format={String} />
        </GlassCard>
        <GlassCard heading="Cost per plan">
          <BarChart title="Cost per plan" bars={plans.map((plan) => ({ label: plan.project_name, value: plan.actual_cost_usd ?? 0 }))} format={formatUsd} />
        </GlassCard>
        <GlassCard heading="Duration per plan">
          <BarChart
            title="Duration per plan"
            bars={plans.flatMap((plan) => (typeof plan.duration_seconds === "number" ? [{ label: plan.project_name, value: plan.duration_seconds }] : []))}
            format={formatDuration}
          />
        </GlassCard>
        <GlassCard heading="Task success per plan">
          <BarChart
            title="Task success per plan"
            bars={plans.flatMap((plan) =>
              plan.total_tasks ? [{ label: plan.project_name, value: (plan.completed_tasks ?? 0) / plan.total_tasks, color: "var(--success)" }] : [],
            )}
            format={formatPercent}
          />
        </GlassCard>
        <GlassCard heading="Retries per plan">
          <BarChart title="Retries per plan" bars={plans.map((plan) => ({ label: plan.project_name, value: plan.retries ?? 0, color: "var(--warning)" }))} format={String} />
        </GlassCard>
      </div>
    </>
  );
}
