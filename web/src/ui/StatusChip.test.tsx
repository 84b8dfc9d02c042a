import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { TASK_STATUSES } from "../api/statuses";
import { StatusChip } from "./StatusChip";
import { readFileSync } from "node:fs";

describe("StatusChip", () => {
  it.each(TASK_STATUSES)("labels %s and gives it its own colour class", (status) => {
    render(<StatusChip status={status} />);
    const chip = screen.getByText(status.replace(/_/g, " "));
    expect(chip).toHaveClass("chip", `chip--${status}`);
    expect(chip).toHaveAttribute("title", `Status: ${status.replace(/_/g, " ")}`);
  });

  it("maps every task status to a distinct colour", () => {
    const css = readFileSync(`${import.meta.dirname}/theme.css`, "utf8");
    const colours = TASK_STATUSES.map((status) => {
      const match = new RegExp(`\\.chip--${status}[^{]*\\{ --chip: ([^;]+);`).exec(css);
      return match?.[1];
    });
    expect(colours.every(Boolean)).toBe(true);
    expect(new Set(colours).size).toBe(TASK_STATUSES.length);
  });
});
