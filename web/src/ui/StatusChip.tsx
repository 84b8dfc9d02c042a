/** A coloured status pill; each task, plan and review status has its own colour class. */
export function StatusChip({ status }: { status: string }) {
  const label = status.replace(/_/g, " ");
  return (
    <span className={`chip chip--${status}`} title={`Status: ${label}`}>
      {label}
    </span>
  );
}
