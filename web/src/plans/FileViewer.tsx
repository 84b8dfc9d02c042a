import { useState } from "react";
import type { Task } from "../api/types";
import { GlassButton } from "../ui/GlassButton";
import { Modal } from "../ui/Modal";
import { useTaskFiles } from "./queries";

/** Read-only view of the files a task wrote, one file at a time. */
export function FileViewer({ planId, task, onClose }: { planId: string; task: Task; onClose: () => void }) {
  const files = useTaskFiles(planId, task.id);
  const [selected, setSelected] = useState(0);
  const file = files.data?.[selected];
  return (
    <Modal title={`Files of task #${task.task_number}`} onClose={onClose}>
      {files.isPending && <p className="muted">Loading files…</p>}
      {files.error && <p className="error-text">{files.error.message}</p>}
      {files.data?.length === 0 && <p className="muted">This task has no files yet.</p>}
      {files.data && files.data.length > 0 && (
        <>
          <div className="row" role="tablist" aria-label="Files">
            {files.data.map((item, index) => (
              <GlassButton key={item.path} small role="tab" aria-selected={index === selected} onClick={() => setSelected(index)}>
                {item.path}
              </GlassButton>
            ))}
          </div>
          {file && (
            <pre className="file" role="tabpanel" aria-label={file.path} tabIndex={0}>
              {file.content}
            </pre>
          )}
        </>
      )}
    </Modal>
  );
}
