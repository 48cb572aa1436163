// Runs one database console job in a child process and exits. A child process, not a worker
// thread: better-sqlite3 has no interrupt, and a query stuck in native code ignores
// Worker.terminate() (it even blocks process exit), while a process can always be killed.
// Self-contained (no relative imports) so Node can run this file from src/ as well as dist/.
import Database from "better-sqlite3";
import type { ColumnInfo, ConsoleJob, ConsoleReply, QueryResult, TablesResult } from "./protocol.js";

/** A result stops growing past this many bytes of JSON (rows can hold large blobs). */
const MAX_RESULT_BYTES = 16 * 1024 * 1024;

/** Statements refused in every mode: they reach other files or change the connection itself. */
const FORBIDDEN_FIRST_WORDS = new Set(["ATTACH", "DETACH", "PRAGMA", "VACUUM"]);

/** The first keyword of a statement, after whitespace and comments. */
function firstWord(sql: string): string {
  let rest = sql;
  for (;;) {
    rest = rest.trimStart();
    if (rest.startsWith("--")) {
      const nl = rest.indexOf("\n");
      rest = nl < 0 ? "" : rest.slice(nl + 1);
    } else if (rest.startsWith("/*")) {
      const end = rest.indexOf("*/");
      rest = end < 0 ? "" : rest.slice(end + 2);
    } else break;
  }
  return (/^[A-Za-z]+/.exec(rest)?.[0] ?? "").toUpperCase();
}

function tables(db: Database.Database): TablesResult {
  const result: TablesResult = {};
  const names = db
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all() as string[];
  for (const name of names) {
    const uniques = new Set<string>();
    for (const index of db.prepare("SELECT name, \"unique\" AS u FROM pragma_index_list(?)").all(name) as Array<{ name: string; u: number }>) {
      if (!index.u) continue;
      const cols = db.prepare("SELECT name FROM pragma_index_info(?)").pluck().all(index.name) as string[];
      if (cols.length === 1) uniques.add(cols[0]!);
    }
    const columns: Record<string, ColumnInfo> = {};
    const info = db.prepare("SELECT name, type, \"notnull\" AS nn, dflt_value, pk FROM pragma_table_info(?)").all(name) as Array<{
      name: string;
      type: string;
      nn: number;
      dflt_value: string | null;
      pk: number;
    }>;
    for (const col of info) {
      columns[col.name] = { type: col.type, nullable: !col.nn && !col.pk, default: col.dflt_value, primary: col.pk > 0, unique: uniques.has(col.name) };
    }
    result[name] = { columns };
  }
  return result;
}

function jsonValue(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString("base64");
  if (typeof value === "bigint") return value.toString();
  return value;
}

function query(db: Database.Database, job: Extract<ConsoleJob, { op: "query" }>): ConsoleReply {
  const word = firstWord(job.sql);
  if (FORBIDDEN_FIRST_WORDS.has(word)) {
    return { ok: false, kind: "not_allowed", error: `${word} statements are not allowed in the database console` };
  }
  let stmt: Database.Statement;
  try {
    stmt = db.prepare(job.sql);
  } catch (err) {
    return { ok: false, kind: "sql_error", error: (err as Error).message };
  }
  // better-sqlite3 calls ATTACH, DETACH, BEGIN, SAVEPOINT, REINDEX "read-only" statements that
  // return nothing; none of them belongs in a one-statement console.
  if (stmt.readonly && !stmt.reader) {
    return { ok: false, kind: "not_allowed", error: "This statement is not allowed in the database console" };
  }
  if (!stmt.readonly && !job.write) {
    return { ok: false, kind: "not_allowed", error: 'This statement writes; the console is read-only unless the request says "write": true' };
  }
  const result: QueryResult = { ok: true, query: job.sql };
  try {
    if (stmt.reader) {
      const columns = stmt.columns().map((c) => c.name);
      const rows: unknown[] = [];
      if (!job.rowsAsDict) stmt.raw(true);
      let bytes = 0;
      for (const row of stmt.iterate() as Iterable<unknown>) {
        if (rows.length >= job.maxRows || bytes > MAX_RESULT_BYTES) {
          result.truncated = true;
          break;
        }
        const converted = Array.isArray(row)
          ? row.map(jsonValue)
          : Object.fromEntries(Object.entries(row as Record<string, unknown>).map(([k, v]) => [k, jsonValue(v)]));
        bytes += JSON.stringify(converted).length;
        rows.push(converted);
      }
      result.rows = rows;
      if (rows.length > 0) result.columns = columns;
    } else {
      const info = stmt.run();
      result.rowcount = info.changes;
      if (/^(INSERT|REPLACE)$/.test(word)) result.inserted_primary_key = Number(info.lastInsertRowid);
    }
  } catch (err) {
    return { ok: false, kind: "sql_error", error: (err as Error).message };
  }
  return { ok: true, result };
}

function run(job: ConsoleJob): ConsoleReply {
  const readonly = job.op === "tables" || !job.write;
  let db: Database.Database;
  try {
    db = new Database(job.file, { readonly, fileMustExist: true, timeout: 2_000 });
  } catch (err) {
    return { ok: false, kind: "sql_error", error: (err as Error).message };
  }
  try {
    if (readonly) db.pragma("query_only = ON");
    return job.op === "tables" ? { ok: true, result: tables(db) } : query(db, job);
  } finally {
    db.close();
  }
}

process.once("message", (job: ConsoleJob) => {
  let reply: ConsoleReply;
  try {
    reply = run(job);
  } catch (err) {
    reply = { ok: false, kind: "sql_error", error: (err as Error).message };
  }
  process.send!(reply, () => process.exit(0));
});
// Loaded and ready: the parent starts the query's clock only now, so a slow start under load
// is not counted against the query.
process.send!("ready");
