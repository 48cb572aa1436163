// The instance database console: table introspection and queries on an instance's SQLite file,
// each run in a short-lived child process killed at the wall-clock limit, so a runaway query
// (a recursive CTE that never ends) costs one process and never the host's event loop.
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ApiError } from "../../errors.js";
import { deprioritize, residentBytes } from "./child-resources.js";
import type { ConsoleJob, ConsoleReply, QueryResult, TablesResult } from "./protocol.js";
import { forbiddenReason, statementKind } from "./statement-kind.js";

// From src/ under vitest this file is .ts and Node strips the types of the child; from dist/ it is .js.
const STARTUP_TIMEOUT_MS = 30_000;
/** How often a running console process's memory is read. */
const MEMORY_POLL_MS = 100;

// A console process stuck in native code outlives a disconnected parent, so the host kills
// whatever is still running when it exits.
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});
const PROCESS_FILE = fileURLToPath(new URL(`./console-process${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url));

export class DatabaseConsole {
  /** Kills every console process still running (the API server is closing). */
  static killAll(): void {
    for (const child of running) child.kill("SIGKILL");
  }

  /** This console's processes now; at most `maxProcesses`. */
  private active = 0;

  constructor(
    private readonly timeoutMs: number,
    private readonly maxRows: number,
    private readonly maxProcesses: number,
    /** Resident memory a console process may reach before it is killed. */
    private readonly maxMemoryBytes: number,
  ) {}

  async tables(file: string): Promise<TablesResult> {
    return (await this.run({ op: "tables", file }, "")) as TablesResult;
  }

  async query(file: string, sql: string, options: { write: boolean; rowsAsDict: boolean }): Promise<QueryResult> {
    const kind = statementKind(sql);
    const forbidden = forbiddenReason(kind);
    if (forbidden) throw sqlFailure("sql_not_allowed", sql, forbidden);
    const job: ConsoleJob = { op: "query", file, sql, kind, write: options.write, rowsAsDict: options.rowsAsDict, maxRows: this.maxRows };
    return (await this.run(job, sql)) as QueryResult;
  }

  private run(job: ConsoleJob, sql: string): Promise<TablesResult | QueryResult> {
    if (this.active >= this.maxProcesses) {
      // A query ends within timeoutMs, so one slot is free again by then at the latest.
      throw new ApiError("rate_limited", `${this.maxProcesses} database console queries are running, the most at once; try again when one has finished`, {
        retry_after_ms: this.timeoutMs,
      });
    }
    this.active++;
    return new Promise((resolve, reject) => {
      const child = fork(PROCESS_FILE, [], {
        stdio: ["ignore", "ignore", "pipe", "ipc"],
        execArgv: ["--max-old-space-size=256", "--disable-warning=ExperimentalWarning"],
        serialization: "advanced",
      });
      running.add(child);
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        running.delete(child);
        this.active--;
      };
      if (child.pid !== undefined) deprioritize(child.pid);
      let settled = false;
      let stderr = "";
      child.stderr?.setEncoding("utf8").on("data", (d: string) => {
        if (stderr.length < 4000) stderr += d;
      });
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearInterval(memoryWatch);
        fn();
      };
      // A value SQLite builds (randomblob(2e8), an endless group_concat) is memory the child holds
      // before any JavaScript sees it: stop the process when it grows past the limit.
      const memoryWatch = setInterval(() => {
        const rss = child.pid === undefined ? null : residentBytes(child.pid);
        if (rss === null || rss <= this.maxMemoryBytes) return;
        child.kill("SIGKILL");
        const mib = Math.round(this.maxMemoryBytes / 1024 / 1024);
        finish(() => reject(sqlFailure("sql_error", sql, `The query needed more than ${mib} MiB of memory and was stopped; select less at once`)));
      }, MEMORY_POLL_MS);
      // Until the child is ready only a generous start-up bound applies; then the query's limit.
      let timer = setTimeout(() => {
        child.kill("SIGKILL");
        finish(() => reject(new Error("the database console process did not start")));
      }, STARTUP_TIMEOUT_MS);
      child.on("message", (message: "ready" | ConsoleReply) => {
        if (message === "ready") {
          clearTimeout(timer);
          timer = setTimeout(() => {
            child.kill("SIGKILL");
            finish(() => reject(sqlFailure("sql_timeout", sql, `The query did not finish within ${this.timeoutMs} ms and was stopped`)));
          }, this.timeoutMs);
          child.send(job);
          return;
        }
        const reply = message;
        finish(() => {
          if (reply.ok) resolve(reply.result);
          else reject(sqlFailure(reply.kind === "not_allowed" ? "sql_not_allowed" : "sql_error", sql, reply.error));
        });
      });
      child.once("error", (err) => {
        release();
        finish(() => reject(err));
      });
      child.once("exit", (code, signal) => {
        release();
        // Out of memory in the process's JavaScript heap, for one: the query's fault, not the host's.
        finish(() => reject(sqlFailure("sql_error", sql, `The database console process ended (${signal ?? code}) without an answer: ${stderr.trim().slice(-500)}`)));
      });
    });
  }
}

/** maubot's SQL error body: `{ok:false, query, error, errcode}`. */
function sqlFailure(errcode: "sql_error" | "sql_not_allowed" | "sql_timeout", query: string, error: string): ApiError {
  return new ApiError(errcode, error, { ok: false, query });
}
