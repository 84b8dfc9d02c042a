import type { Task } from "../api/types";

/**
 * Groups tasks into dependency levels: a task sits one wave after its latest dependency.
 * Unknown dependencies are ignored and a cycle is cut where it is found.
 */
export function dependencyWaves(tasks: readonly Task[]): Task[][] {
  const byNumber = new Map(tasks.map((task) => [task.task_number, task]));
  const level = new Map<number, number>();
  const visiting = new Set<number>();

  const levelOf = (task: Task): number => {
    const known = level.get(task.task_number);
    if (known !== undefined) return known;
    if (visiting.has(task.task_number)) return 0;
    visiting.add(task.task_number);
    let result = 0;
    for (const dependency of task.depends_on) {
      const parent = byNumber.get(dependency);
      if (parent) result = Math.max(result, levelOf(parent) + 1);
    }
    visiting.delete(task.task_number);
    level.set(task.task_number, result);
    return result;
  };

  const waves: Task[][] = [];
  for (const task of tasks) {
    const index = levelOf(task);
    (waves[index] ??= []).push(task);
  }
  return waves.filter((wave) => wave.length > 0);
}
