import { useDeferredValue, useState } from "react";
import { Link } from "react-router-dom";
import { PLAN_STATUSES } from "../api/statuses";
import type { MasterplanStatus } from "../api/types";
import { GlassCard } from "../ui/GlassCard";
import { ProgressBar } from "../ui/ProgressBar";
import { StatusChip } from "../ui/StatusChip";
import { formatDate, formatUsd } from "../ui/format";
import { usePlans } from "./queries";

export function PlansListPage() {
  const [status, setStatus] = useState<MasterplanStatus | "">("");
  const [search, setSearch] = useState("");
  const q = useDeferredValue(search.trim());
  const plans = usePlans({ status, q });

  return (
    <GlassCard aria-labelledby="plans-title">
      <div className="row spread">
        <h1 id="plans-title">Masterplans</h1>
        <div className="row">
          <label>
            Status
            <select value={status} onChange={(event) => setStatus(event.target.value as MasterplanStatus | "")}>
              <option value="">All</option>
              {PLAN_STATUSES.map((value) => (
                <option key={value} value={value}>
                  {value.replace(/_/g, " ")}
                </option>
              ))}
            </select>
          </label>
          <label>
            Search
            <input type="search" value={search} onChange={(event) => setSearch(event.target.value)} placeholder="Name or description" />
          </label>
        </div>
      </div>
      {plans.error && <p className="error-text" role="alert">{plans.error.message}</p>}
      {plans.isPending && <p className="muted">Loading…</p>}
      {plans.data && plans.data.items.length === 0 && (
        <p className="muted">
          No plans match. Start one from the <Link to="/chat">chat</Link> with <code>/masterplan &lt;what to build&gt;</code>.
        </p>
      )}
      {plans.data && plans.data.items.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Plan</th>
                <th scope="col">Status</th>
                <th scope="col">Progress</th>
                <th scope="col">Cost (actual / estimated)</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {plans.data.items.map((plan) => (
                <tr key={plan.id}>
                  <td>
                    <Link to={`/plans/${plan.id}`}>{plan.project_name}</Link>
                    <div className="muted" style={{ fontSize: "0.85rem" }}>
                      {plan.description.slice(0, 120)}
                    </div>
                  </td>
                  <td>
                    <StatusChip status={plan.status} />
                  </td>
                  <td style={{ minWidth: 140 }}>
                    <ProgressBar value={plan.completed_tasks} max={plan.total_tasks} label={`Progress of ${plan.project_name}`} />
                    <span className="muted">
                      {plan.completed_tasks}/{plan.total_tasks}
                      {plan.failed_tasks > 0 && ` · ${plan.failed_tasks} failed`}
                    </span>
                  </td>
                  <td>
                    {formatUsd(plan.actual_cost_usd)} / {formatUsd(plan.estimated_cost_usd)}
                  </td>
                  <td className="muted">{formatDate(plan.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="muted">{plans.data.total} plans</p>
        </div>
      )}
    </GlassCard>
  );
}
