// One readable line per record for the console (`logging.console: pretty`).
import type { LogEntry } from "./log-ring.js";

const HIDDEN = new Set(["id", "time", "levelname", "levelno", "name", "msg", "exc_info", "instance_id", "client_id"]);

export function formatPretty(entry: LogEntry, color: boolean): string {
  const time = entry.time.replace("T", " ").replace("Z", "");
  const level = entry.levelname.padEnd(8);
  const paint = color ? COLORS[entry.levelname] : undefined;
  const levelText = paint ? `\x1b[${paint}m${level}\x1b[0m` : level;
  let line = `${time} ${levelText} [${entry.name}] ${entry.msg}`;
  const extras = Object.entries(entry).filter(([k, v]) => !HIDDEN.has(k) && v !== undefined);
  if (extras.length > 0) {
    line += " " + extras.map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" ");
  }
  if (entry.exc_info) line += "\n    " + entry.exc_info.split("\n").join("\n    ");
  return line + "\n";
}

const COLORS: Record<string, string> = {
  TRACE: "90",
  DEBUG: "36",
  INFO: "32",
  WARNING: "33",
  ERROR: "31",
  CRITICAL: "35",
};
