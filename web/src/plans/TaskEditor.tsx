import { useState, type FormEvent } from "react";
import type { Task } from "../api/types";
import { GlassButton } from "../ui/GlassButton";
import { useEditPlan, type PlanEditOperation } from "./queries";

const COMPLEXITIES = ["low", "medium", "high", "critical"] as const;

function numbers(text: string): number[] {
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((item) => Number(item.replace(/^#/, "")));
}

function lines(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
}

/** Edits one task of a draft plan; the server validates (unknown dependencies, cycles, unsafe paths). */
export function TaskEditor({ planId, task, onDone }: { planId: string; task: Task; onDone: () => void }) {
  const edit = useEditPlan(planId);
  const [name, setName] = useState(task.name);
  const [description, setDescription] = useState(task.description);
  const [complexity, setComplexity] = useState(task.complexity);
  const [dependsOn, setDependsOn] = useState(task.depends_on.join(", "));
  const [targetFiles, setTargetFiles] = useState(task.target_files.join("\n"));
  const [confirmDelete, setConfirmDelete] = useState(false);

  const apply = (operation: PlanEditOperation, summary: string) => edit.mutate({ operations: [operation], summary }, { onSuccess: onDone });
  const save = (event: FormEvent) => {
    event.preventDefault();
    apply(
      {
        op: "update_task",
        task: task.task_number,
        name: name.trim(),
        description,
        complexity,
        depends_on: numbers(dependsOn),
        target_files: lines(targetFiles),
      },
      `Edit task #${task.task_number}`,
    );
  };

  return (
    <form onSubmit={save} style={{ display: "grid", gap: "0.5rem" }} aria-label={`Edit task #${task.task_number}`}>
      <label>
        Name
        <input value={name} onChange={(event) => setName(event.target.value)} required maxLength={300} />
      </label>
      <label>
        Description
        <textarea rows={3} value={description} onChange={(event) => setDescription(event.target.value)} />
      </label>
      <div className="row">
        <label>
          Complexity
          <select value={complexity} onChange={(event) => setComplexity(event.target.value as Task["complexity"])}>
            {COMPLEXITIES.map((value) => (
              <option key={value}>{value}</option>
            ))}
          </select>
        </label>
        <label style={{ flex: 1 }}>
          Depends on (task numbers)
          <input value={dependsOn} onChange={(event) => setDependsOn(event.target.value)} pattern="[#\d,\s]*" />
        </label>
      </div>
      <label>
        Target files (one per line)
        <textarea rows={3} value={targetFiles} onChange={(event) => setTargetFiles(event.target.value)} spellCheck={false} />
      </label>
      <div className="row">
        <GlassButton type="submit" variant="primary" disabled={edit.isPending}>
          Save task
        </GlassButton>
        <GlassButton onClick={onDone}>Discard</GlassButton>
        {confirmDelete ? (
          <GlassButton variant="danger" disabled={edit.isPending} onClick={() => apply({ op: "delete_task", task: task.task_number }, `Delete task #${task.task_number}`)}>
            Really delete #{task.task_number}
          </GlassButton>
        ) : (
          <GlassButton variant="danger" onClick={() => setConfirmDelete(true)}>
            Delete task
          </GlassButton>
        )}
      </div>
      {edit.error && (
        <p className="error-text" role="alert">
          {edit.error.message}
        </p>
      )}
    </form>
  );
}
