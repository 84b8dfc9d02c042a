import { useMemo, useState } from "react";
import type { Task } from "../api/types";
import { dependencyWaves } from "./waves";

const NODE_WIDTH = 170;
const NODE_HEIGHT = 26;
const COLUMN_GAP = 70;
const ROW_GAP = 8;
const HEADER = 24;

interface Placed {
  task: Task;
  x: number;
  y: number;
}

function truncate(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

/** Tasks laid out in dependency waves (columns), coloured by status; focusing a task highlights its edges. */
export function DependencyGraph({ tasks }: { tasks: readonly Task[] }) {
  const [selected, setSelected] = useState<number | null>(null);
  const { placed, waveCount, height } = useMemo(() => {
    const waves = dependencyWaves(tasks);
    const positions = new Map<number, Placed>();
    waves.forEach((wave, column) =>
      wave.forEach((task, row) =>
        positions.set(task.task_number, {
          task,
          x: column * (NODE_WIDTH + COLUMN_GAP),
          y: HEADER + row * (NODE_HEIGHT + ROW_GAP),
        }),
      ),
    );
    const tallest = Math.max(0, ...waves.map((wave) => wave.length));
    return { placed: positions, waveCount: waves.length, height: HEADER + tallest * (NODE_HEIGHT + ROW_GAP) };
  }, [tasks]);

  const width = Math.max(1, waveCount * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP);
  const nodes = [...placed.values()];
  return (
    <div className="graph-scroll">
      <svg width={width} height={height} role="group" aria-label="Dependency graph by wave">
        {Array.from({ length: waveCount }, (_, column) => (
          <text key={column} x={column * (NODE_WIDTH + COLUMN_GAP)} y={14} fill="var(--muted)" fontSize={12}>
            Wave {column + 1}
          </text>
        ))}
        {nodes.flatMap(({ task, x, y }) =>
          task.depends_on.map((dependency) => {
            const from = placed.get(dependency);
            if (!from) return null;
            const active = selected === task.task_number || selected === dependency;
            const startX = from.x + NODE_WIDTH;
            const startY = from.y + NODE_HEIGHT / 2;
            const endY = y + NODE_HEIGHT / 2;
            const middle = (startX + x) / 2;
            return (
              <path
                key={`${dependency}-${task.task_number}`}
                d={`M${startX},${startY} C${middle},${startY} ${middle},${endY} ${x},${endY}`}
                fill="none"
                stroke={active ? "var(--focus)" : "rgba(255,255,255,0.15)"}
                strokeWidth={active ? 2 : 1}
              />
            );
          }),
        )}
        {nodes.map(({ task, x, y }) => (
          <g
            key={task.id}
            className="graph-node"
            transform={`translate(${x},${y})`}
            tabIndex={0}
            aria-label={`Task ${task.task_number} ${task.name}: ${task.status.replace(/_/g, " ")}`}
            onFocus={() => setSelected(task.task_number)}
            onBlur={() => setSelected(null)}
            onMouseEnter={() => setSelected(task.task_number)}
            onMouseLeave={() => setSelected(null)}
          >
            <title>{`#${task.task_number} ${task.name} (${task.status})`}</title>
            <rect width={NODE_WIDTH} height={NODE_HEIGHT} rx={6} fill={`var(--status-${task.status})`} />
            <text x={8} y={17}>
              #{task.task_number} {truncate(task.name, 20)}
            </text>
          </g>
        ))}
      </svg>
    </div>
  );
}
