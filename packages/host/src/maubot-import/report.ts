// The import report: one line per object (bot account, instance, database, plugin, config
// entry) saying what became of it, so nothing is dropped silently.

export type ReportOutcome = "imported" | "unchanged" | "skipped" | "attention";

export interface ReportLine {
  kind: "client" | "instance" | "database" | "plugin" | "config";
  id: string;
  outcome: ReportOutcome;
  /** Why, or what the operator must do; "" when there is nothing to say. */
  detail: string;
}

const LABEL: Record<ReportOutcome, string> = {
  imported: "imported",
  unchanged: "unchanged",
  skipped: "skipped",
  attention: "needs attention",
};

export function formatReport(lines: readonly ReportLine[], options: { dryRun: boolean }): string {
  const width = Math.max(...lines.map((l) => `${l.kind} ${l.id}`.length), 10);
  const out = lines.map((l) => `${`${l.kind} ${l.id}`.padEnd(width)}  ${LABEL[l.outcome]}${l.detail ? `: ${l.detail}` : ""}`);
  const count = (o: ReportOutcome) => lines.filter((l) => l.outcome === o).length;
  out.push(
    "",
    `${options.dryRun ? "Dry run, nothing written: would import" : "Imported"} ${count("imported")}, unchanged ${count("unchanged")}, ` +
      `skipped ${count("skipped")}, needing attention ${count("attention")}.`,
  );
  return `${out.join("\n")}\n`;
}
