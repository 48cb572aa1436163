// The last log records in memory, in the shape of maubot's log entries, for the API's /logs
// websocket (history, then live records).

/** One record as maubot's log viewer expects it, plus botyard's instance/client id fields. */
export interface LogEntry {
  /** Unique, increasing (maubot uses relativeCreated). */
  id: string;
  /** ISO 8601 with time zone. */
  time: string;
  /** TRACE, DEBUG, INFO, WARNING, ERROR or CRITICAL (Python's names, as in maubot). */
  levelname: string;
  /** Python's level numbers: 5, 10, 20, 30, 40, 50. */
  levelno: number;
  /** Logger name, e.g. `instance.echo1`, `client.@bot:hs`, `loader`, `api`. */
  name: string;
  msg: string;
  /** Set for records about one instance, so a UI can filter. */
  instance_id?: string;
  /** Set for records about one bot account. */
  client_id?: string;
  /** Formatted stack trace of a logged error. */
  exc_info?: string;
  /** Any other field of the record. */
  [extra: string]: unknown;
}

export type LogListener = (entry: LogEntry) => void;

export class LogRing {
  private readonly entries: LogEntry[] = [];
  private readonly listeners = new Set<LogListener>();
  private readonly pending: LogEntry[] = [];
  private delivering = false;

  constructor(readonly capacity = 2048) {}

  push(entry: LogEntry): void {
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
    // A listener that logs would re-enter here; queue its records and deliver them in order.
    this.pending.push(entry);
    if (this.delivering) return;
    this.delivering = true;
    try {
      for (let next = this.pending.shift(); next; next = this.pending.shift()) {
        for (const listener of [...this.listeners]) {
          try {
            listener(next);
          } catch {
            // A broken listener (e.g. a closed websocket) must not break logging.
          }
        }
      }
    } finally {
      this.delivering = false;
    }
  }

  /** Oldest first, at most `capacity` entries. */
  history(): LogEntry[] {
    return [...this.entries];
  }

  /** Calls `fn` for each new entry until the returned function is called. */
  subscribe(fn: LogListener): () => void {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }
}

const LEVELS: Record<number, [string, number]> = {
  10: ["TRACE", 5],
  20: ["DEBUG", 10],
  30: ["INFO", 20],
  40: ["WARNING", 30],
  50: ["ERROR", 40],
  60: ["CRITICAL", 50],
};

let sequence = 0;

/** Turns a parsed pino record into a LogEntry. */
export function toLogEntry(record: Record<string, unknown>): LogEntry {
  const { level, time, msg, name, err, pid: _pid, hostname: _hostname, ...extra } = record;
  const [levelname, levelno] = LEVELS[Number(level)] ?? ["INFO", 20];
  const entry: LogEntry = {
    ...extra,
    id: String(++sequence),
    time: new Date(typeof time === "number" ? time : Date.now()).toISOString(),
    levelname,
    levelno,
    name: typeof name === "string" ? name : "botyard",
    msg: typeof msg === "string" ? msg : "",
  };
  if (err && typeof err === "object") {
    const e = err as { stack?: unknown; message?: unknown };
    entry.exc_info = typeof e.stack === "string" ? e.stack : String(e.message ?? "");
    if (!entry.msg && typeof e.message === "string") entry.msg = e.message;
  }
  if (entry.instance_id === undefined && entry.name.startsWith("instance.")) {
    entry.instance_id = entry.name.slice("instance.".length);
  }
  return entry;
}
