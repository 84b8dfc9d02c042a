import { useEffect, useId, useRef, type ReactNode } from "react";
import { GlassButton } from "./GlassButton";

/** A dialog that takes focus when it opens and closes on Escape. */
export function Modal({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
  const titleId = useId();
  const dialogRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    dialogRef.current?.focus();
    return () => previous?.focus();
  }, []);
  return (
    <div className="backdrop" onClick={(event) => event.target === event.currentTarget && onClose()}>
      <div
        ref={dialogRef}
        className="glass-card modal"
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        tabIndex={-1}
        onKeyDown={(event) => event.key === "Escape" && onClose()}
      >
        <div className="row spread">
          <h2 id={titleId}>{title}</h2>
          <GlassButton small onClick={onClose} aria-label="Close dialog">
            ✕
          </GlassButton>
        </div>
        {children}
      </div>
    </div>
  );
}
