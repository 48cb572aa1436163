// Runs one database console job in a child process and exits. A child process, not a worker
// thread: better-sqlite3 has no interrupt, and a query stuck in native code ignores
// Worker.terminate() (it even blocks process exit), while a process can always be killed.
// Self-contained (no relative imports) so Node can run this file from src/ as well as dist/.
import Database from "better-sqlite3";
import type { ColumnInfo, ConsoleJob, ConsoleReply, QueryResult, TablesResult } from "./protocol.js";

type QueryJob = Extract<ConsoleJob, { op: "query" }>;

const MIB = 1024 * 1024;
/** An answer stops before it grows past this many bytes of JSON (rows can hold large blobs). */
const MAX_RESULT_BYTES = 16 * MIB;
/** One row larger than this is not converted at all: a 200 MB blob would be 267 MB of base64. */
const MAX_ROW_BYTES = 8 * MIB;

/** VDBE opcodes (from EXPLAIN) that reach other files: VACUUM [INTO] and ATTACH/DETACH. */
function touchesOtherFiles(op: { opcode: string; p4: unknown }): boolean {
  if (op.opcode === "Vacuum") return true;
  return op.opcode === "Function" && typeof op.p4 === "string" && /^sqlite_(attach|detach)\(/.test(op.p4);
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

/** Size of a row's JSON, counted from its values before any base64 is made (a lower bound). */
function estimatedRowBytes(row: unknown[]): number {
  let bytes = 2;
  for (const value of row) {
    if (Buffer.isBuffer(value)) bytes += Math.ceil(value.length / 3) * 4 + 3;
    else if (typeof value === "string") bytes += value.length + 3;
    else bytes += 24;
  }
  return bytes;
}

function notAllowed(error: string): ConsoleReply {
  return { ok: false, kind: "not_allowed", error };
}

/** Second guard behind the keyword check in the API: what the compiled program would do. */
function checkProgram(db: Database.Database, job: QueryJob): ConsoleReply | null {
  // EXPLAIN runs nothing, and EXPLAIN EXPLAIN is not SQL.
  if (job.kind.explain) return null;
  let program: Array<{ opcode: string; p4: unknown }>;
  try {
    program = db.prepare(`EXPLAIN ${job.sql.slice(job.kind.start)}`).all() as Array<{ opcode: string; p4: unknown }>;
  } catch {
    return notAllowed("This statement could not be checked, so the database console does not run it");
  }
  return program.some(touchesOtherFiles) ? notAllowed("Statements that reach other database files are not allowed in the database console") : null;
}

function query(db: Database.Database, job: QueryJob): ConsoleReply {
  let stmt: Database.Statement;
  try {
    stmt = db.prepare(job.sql);
  } catch (err) {
    return { ok: false, kind: "sql_error", error: (err as Error).message };
  }
  // better-sqlite3 calls ATTACH, DETACH, BEGIN, SAVEPOINT, REINDEX "read-only" statements that
  // return nothing; none of them belongs in a one-statement console.
  if (stmt.readonly && !stmt.reader) return notAllowed("This statement is not allowed in the database console");
  if (!stmt.readonly && !job.write) {
    return notAllowed('This statement writes; the console is read-only unless the request says "write": true');
  }
  const refused = checkProgram(db, job);
  if (refused) return refused;
  const result: QueryResult = { ok: true, query: job.sql };
  try {
    if (stmt.reader) {
      const columns = stmt.columns().map((c) => c.name);
      const rows: unknown[] = [];
      stmt.raw(true);
      let bytes = 0;
      for (const row of stmt.iterate() as Iterable<unknown[]>) {
        if (rows.length >= job.maxRows) {
          result.truncated_reason = `The console returns at most ${job.maxRows} rows; add a LIMIT/OFFSET to see others`;
          break;
        }
        if (estimatedRowBytes(row) > MAX_ROW_BYTES) {
          result.truncated_reason = `Row ${rows.length + 1} is larger than ${MAX_ROW_BYTES / MIB} MiB; select part of it (substr(), length())`;
          break;
        }
        const values = row.map(jsonValue);
        const converted = job.rowsAsDict ? Object.fromEntries(columns.map((name, i) => [name, values[i]])) : values;
        const rowBytes = Buffer.byteLength(JSON.stringify(converted));
        if (bytes + rowBytes > MAX_RESULT_BYTES) {
          result.truncated_reason = `The answer stops at ${MAX_RESULT_BYTES / MIB} MiB; select fewer rows or columns`;
          break;
        }
        bytes += rowBytes;
        rows.push(converted);
      }
      if (result.truncated_reason) result.truncated = true;
      result.rows = rows;
      if (rows.length > 0) result.columns = columns;
    } else {
      const info = stmt.run();
      result.rowcount = info.changes;
      if (job.kind.keyword === "INSERT" || job.kind.keyword === "REPLACE") result.inserted_primary_key = Number(info.lastInsertRowid);
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
