import type { ComponentPropsWithoutRef } from "react";

interface GlassButtonProps extends ComponentPropsWithoutRef<"button"> {
  variant?: "default" | "primary" | "danger";
  small?: boolean;
}

export function GlassButton({ variant = "default", small = false, className = "", type = "button", ...rest }: GlassButtonProps) {
  const classes = ["glass-button", `glass-button--${variant}`, small ? "glass-button--small" : "", className];
  return <button type={type} className={classes.filter(Boolean).join(" ")} {...rest} />;
}
