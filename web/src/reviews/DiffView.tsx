function lineClass(line: string): string {
  if (line.startsWith("+++") || line.startsWith("---")) return "muted";
  if (line.startsWith("@@")) return "hunk";
  if (line.startsWith("+")) return "add";
  if (line.startsWith("-")) return "del";
  return "";
}

/** A unified diff with added, removed and hunk lines coloured. */
export function DiffView({ diff }: { diff: string }) {
  if (diff.trim() === "") return <p className="muted">No changes.</p>;
  return (
    <pre className="diff" aria-label="Diff" tabIndex={0}>
      {diff.split("\n").map((line, index) => (
        <span key={index} className={lineClass(line)}>
          {line || " "}
        </span>
      ))}
    </pre>
  );
}
