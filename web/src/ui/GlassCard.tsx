import type { ComponentPropsWithoutRef, ReactNode } from "react";

interface GlassCardProps extends ComponentPropsWithoutRef<"section"> {
  heading?: ReactNode;
}

/** A frosted panel; with a heading it becomes a labelled region. */
export function GlassCard({ heading, children, className = "", ...rest }: GlassCardProps) {
  return (
    <section className={`glass-card ${className}`.trim()} {...rest}>
      {heading !== undefined && <h2>{heading}</h2>}
      {children}
    </section>
  );
}
