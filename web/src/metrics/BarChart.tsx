export interface Bar {
  label: string;
  value: number;
  color?: string;
}

const ROW = 26;
const LABEL_WIDTH = 130;
const VALUE_WIDTH = 64;

/** Horizontal bars drawn in SVG, with the figures also given as text for screen readers. */
export function BarChart({ title, bars, format }: { title: string; bars: readonly Bar[]; format: (value: number) => string }) {
  if (bars.length === 0) return <p className="muted">No data for {title.toLowerCase()}.</p>;
  const max = Math.max(...bars.map((bar) => bar.value), Number.EPSILON);
  const width = 420;
  const barSpace = width - LABEL_WIDTH - VALUE_WIDTH;
  return (
    <figure style={{ margin: 0 }}>
      <svg className="chart" viewBox={`0 0 ${width} ${bars.length * ROW}`} width="100%" role="img" aria-label={title}>
        {bars.map((bar, index) => (
          <g key={bar.label} transform={`translate(0,${index * ROW})`}>
            <text x={0} y={17}>
              {bar.label.length > 20 ? `${bar.label.slice(0, 19)}…` : bar.label}
            </text>
            <rect x={LABEL_WIDTH} y={5} height={16} rx={4} width={Math.max(1, (bar.value / max) * barSpace)} fill={bar.color ?? "var(--info)"} />
            <text x={width - VALUE_WIDTH + 6} y={17}>
              {format(bar.value)}
            </text>
          </g>
        ))}
      </svg>
      <figcaption className="visually-hidden">{bars.map((bar) => `${bar.label}: ${format(bar.value)}`).join("; ")}</figcaption>
    </figure>
  );
}
