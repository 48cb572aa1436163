// The console process's own guard, behind the keyword check of the API: a job whose statement
// kind was (wrongly) judged harmless is still refused by what the compiled program would do.
import { fork } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import type { ConsoleJob, ConsoleReply } from "./protocol.js";

const PROCESS_FILE = fileURLToPath(new URL("./console-process.ts", import.meta.url));

function runJob(job: ConsoleJob): Promise<ConsoleReply> {
  return new Promise((resolve, reject) => {
    const child = fork(PROCESS_FILE, [], { stdio: ["ignore", "ignore", "inherit", "ipc"], execArgv: ["--disable-warning=ExperimentalWarning"], serialization: "advanced" });
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("message", (message: "ready" | ConsoleReply) => {
      if (message === "ready") child.send(job);
      else resolve(message);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`console process exited (${code})`));
    });
  });
}

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("console process", () => {
  it("refuses VACUUM INTO and ATTACH from their compiled program even when the job calls them a SELECT", async () => {
    dir = mkdtempSync(path.join(tmpdir(), "botyard-console-"));
    const file = path.join(dir, "i.db");
    const db = new Database(file);
    db.exec("CREATE TABLE t (x); INSERT INTO t VALUES (1)");
    db.close();
    const target = path.join(dir, "copy.db");
    const disguised = { keyword: "SELECT", explain: false, start: 0 };
    for (const sql of [`VACUUM INTO '${target}'`, "VACUUM", `ATTACH '${target}' AS other`]) {
      const reply = await runJob({ op: "query", file, sql, kind: disguised, write: true, rowsAsDict: false, maxRows: 10 });
      expect(reply, sql).toMatchObject({ ok: false, kind: "not_allowed" });
    }
    expect(existsSync(target)).toBe(false);
    const read = await runJob({ op: "query", file, sql: "SELECT x FROM t", kind: disguised, write: false, rowsAsDict: false, maxRows: 10 });
    expect(read).toMatchObject({ ok: true, result: { rows: [[1]] } });
  });
});
