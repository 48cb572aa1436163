import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeBundle, testManifest } from "../../test-support/plugin-fixtures.js";
import { startApiHarness, type ApiHarness } from "../../test-support/api-harness.js";

let h: ApiHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const V1 = "/_matrix/maubot/v1";

/** An API with one running instance `db1` whose plugin made table `counter` (n = 0). */
async function withDatabase(options: Parameters<typeof startApiHarness>[0] = {}): Promise<ApiHarness> {
  const harness = await startApiHarness(options);
  harness.addClient("@bot:test");
  await harness.request("POST", `${V1}/plugins/upload`, { raw: makeBundle({ manifest: testManifest() }) });
  await harness.request("POST", `${V1}/plugins/upload`, { raw: makeBundle({ manifest: testManifest({ id: "nodb.plugin", database: false }) }) });
  const res = await harness.request("PUT", `${V1}/instance/db1`, { body: { type: "test.plugin", primary_user: "@bot:test" } });
  expect(res.json.state).toBe("running");
  return harness;
}

const query = (harness: ApiHarness, body: Record<string, unknown>, id = "db1") =>
  harness.request("POST", `${V1}/instance/${id}/database/query`, { body });

describe("database console", () => {
  it("lists tables with their columns as maubot does", async () => {
    h = await withDatabase();
    const res = await h.request("GET", `${V1}/instance/db1/database`);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ counter: { columns: { n: { type: "INTEGER", nullable: false, default: null, primary: false, unique: false } } } });
  });

  it("shows no tables for an instance that never ran (no file yet)", async () => {
    h = await withDatabase();
    await h.request("PUT", `${V1}/instance/fresh`, { body: { type: "test.plugin", primary_user: "@bot:test", enabled: false } });
    expect((await h.request("GET", `${V1}/instance/fresh/database`)).json).toEqual({});
    expect((await query(h, { query: "SELECT 1" }, "fresh")).json).toMatchObject({ ok: false, errcode: "sql_error" });
  });

  it("reads rows of a table with order and limit; an unknown table is table_not_found (200, as maubot)", async () => {
    h = await withDatabase();
    await query(h, { query: "INSERT INTO counter (n) VALUES (5), (3)", write: true });
    const rows = await h.request("GET", `${V1}/instance/db1/database/counter?order=n:desc&limit=2`);
    expect(rows.json).toMatchObject({ ok: true, rows: [[5], [3]], columns: ["n"] });
    const asc = await h.request("GET", `${V1}/instance/db1/database/counter?order=n:asc`);
    expect(asc.json.rows).toEqual([[0], [3], [5]]);
    const missing = await h.request("GET", `${V1}/instance/db1/database/nope`);
    expect([missing.status, missing.json.errcode]).toEqual([200, "table_not_found"]);
  });

  it("runs a read query with rows as lists or dicts", async () => {
    h = await withDatabase();
    const res = await query(h, { query: "SELECT n, 'x' AS s FROM counter" });
    expect(res.json).toEqual({ ok: true, query: "SELECT n, 'x' AS s FROM counter", rows: [[0, "x"]], columns: ["n", "s"] });
    const dicts = await query(h, { query: "SELECT n FROM counter", rows_as_dict: true });
    expect(dicts.json.rows).toEqual([{ n: 0 }]);
  });

  it("refuses a write on the read-only console and runs it with write: true", async () => {
    h = await withDatabase();
    for (const sql of ["UPDATE counter SET n = 42", "DELETE FROM counter", "CREATE TABLE t (x)", "DROP TABLE counter", "VACUUM"]) {
      const res = await query(h, { query: sql });
      expect([res.status, res.json.errcode, res.json.ok, res.json.query], sql).toEqual([400, "sql_not_allowed", false, sql]);
    }
    expect((await query(h, { query: "SELECT n FROM counter" })).json.rows).toEqual([[0]]);
    const write = await query(h, { query: "UPDATE counter SET n = 42", write: true });
    expect(write.json).toEqual({ ok: true, query: "UPDATE counter SET n = 42", rowcount: 1 });
    const insert = await query(h, { query: "INSERT INTO counter (n) VALUES (7)", write: true });
    expect(insert.json).toMatchObject({ ok: true, rowcount: 1, inserted_primary_key: 2 });
    expect((await query(h, { query: "SELECT n FROM counter ORDER BY n" })).json.rows).toEqual([[7], [42]]);
  });

  it("refuses ATTACH, DETACH, PRAGMA, VACUUM INTO and transaction control even read-only and with write: true", async () => {
    h = await withDatabase();
    const hostDb = h.config.database.replaceAll("'", "''");
    for (const sql of [
      `ATTACH DATABASE '${hostDb}' AS host`,
      `/* hidden */ attach '${hostDb}' as host`,
      "-- comment\nDETACH DATABASE host",
      "PRAGMA writable_schema = 1",
      "pragma table_info(counter)",
      `VACUUM INTO '${h.dir}/copy.db'`,
      "BEGIN",
      "SAVEPOINT s",
    ]) {
      for (const write of [false, true]) {
        const res = await query(h, { query: sql, write });
        expect([res.status, res.json.errcode], `${sql} write=${write}`).toEqual([400, "sql_not_allowed"]);
      }
    }
  });

  it("refuses VACUUM INTO, ATTACH and PRAGMA hidden behind comments, empty statements, case and EXPLAIN; no file appears", async () => {
    h = await withDatabase();
    const outside = mkdtempSync(join(tmpdir(), "botyard-outside-"));
    try {
      const target = join(outside, "v.db").replaceAll("'", "''");
      const hostDb = h.config.database.replaceAll("'", "''");
      const databasesBefore = readdirSync(h.config.plugin_databases.sqlite).sort();
      for (const sql of [
        `/*/ x */ VACUUM INTO '${target}'`,
        `;VACUUM INTO '${target}'`,
        `; ;\n;vAcUuM INTO '${target}'`,
        `\t\r\n\fVACUUM/**/INTO '${target}'`,
        `-- a\n/* b */;VACUUM main INTO '${target}'`,
        `EXPLAIN VACUUM INTO '${target}'`,
        ";PRAGMA table_info(counter)",
        "/*/ */ pragma writable_schema = 1",
        "EXPLAIN QUERY PLAN PRAGMA journal_mode = DELETE",
        `;/**/ATTACH '${hostDb}' AS host`,
        `;ATTACH '${target}' AS created`,
        "; DETACH main",
      ]) {
        for (const write of [false, true]) {
          const res = await query(h, { query: sql, write });
          expect([res.status, res.json.errcode], `${sql} write=${write}`).toEqual([400, "sql_not_allowed"]);
        }
      }
      expect(readdirSync(outside)).toEqual([]);
      expect(readdirSync(h.config.plugin_databases.sqlite).sort()).toEqual(databasesBefore);
      expect((await query(h, { query: "SELECT n FROM counter" })).json.rows).toEqual([[0]]);
      expect((await h.request("GET", `${V1}/health`, { token: null })).status).toBe(200);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it("runs reads behind comments, empty statements and WITH; a write behind WITH still needs write: true", async () => {
    h = await withDatabase();
    expect((await query(h, { query: "/*/ c */ ;-- d\n SELECT n FROM counter" })).json.rows).toEqual([[0]]);
    expect((await query(h, { query: "WITH c(x) AS (SELECT 2) SELECT x FROM c" })).json.rows).toEqual([[2]]);
    expect((await query(h, { query: 'SELECT 1 AS "VACUUM"' })).json.rows).toEqual([[1]]);
    expect((await query(h, { query: "EXPLAIN QUERY PLAN SELECT n FROM counter" })).json.ok).toBe(true);
    const hidden = "WITH c(x) AS (SELECT 9) UPDATE counter SET n = (SELECT x FROM c)";
    expect((await query(h, { query: hidden })).json.errcode).toBe("sql_not_allowed");
    expect((await query(h, { query: `;${hidden}`, write: true })).json).toMatchObject({ ok: true, rowcount: 1 });
    expect((await query(h, { query: "SELECT load_extension('/nonexistent')" })).json.errcode).toBe("sql_error");
  });

  it("answers SQL errors with maubot's sql_error body, and query_missing, instance_not_found, plugin_has_no_database", async () => {
    h = await withDatabase();
    const bad = await query(h, { query: "SELECT * FROM nowhere" });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({ ok: false, query: "SELECT * FROM nowhere", error: expect.stringContaining("no such table"), errcode: "sql_error" });
    const two = await query(h, { query: "SELECT 1; SELECT 2" });
    expect(two.json.errcode).toBe("sql_error");
    expect((await query(h, {})).json.errcode).toBe("query_missing");
    expect((await query(h, { query: "SELECT 1" }, "ghost")).json.errcode).toBe("instance_not_found");
    await h.request("PUT", `${V1}/instance/plain`, { body: { type: "nodb.plugin", primary_user: "@bot:test" } });
    const noDb = await h.request("GET", `${V1}/instance/plain/database`);
    expect([noDb.status, noDb.json.errcode]).toEqual([200, "plugin_has_no_database"]);
    expect((await query(h, { query: "SELECT 1" }, "plain")).json.errcode).toBe("plugin_has_no_database");
  });

  it("caps the rows a query returns", async () => {
    // A generous time limit: on a loaded machine the 4 MB rows take seconds in a niced process.
    h = await withDatabase({ limits: { queryMaxRows: 10, queryTimeoutMs: 30_000 } });
    const res = await query(h, { query: "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 500) SELECT x FROM c" });
    expect(res.json.rows).toHaveLength(10);
    expect(res.json.truncated).toBe(true);
    // Rows of large values stop at 16 MiB of JSON, whatever the row cap.
    const big = await query(h, { query: "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 8) SELECT hex(zeroblob(2000000)) FROM c" });
    expect(big.json.truncated, big.text.slice(0, 300)).toBe(true);
    expect(big.json.rows.length).toBeLessThan(8);
  });

  it("never returns one huge row: a row over 8 MiB is not converted, and a console process over its memory limit is stopped", async () => {
    h = await withDatabase({ limits: { queryMaxMemoryBytes: 128 * 1024 * 1024, queryTimeoutMs: 60_000 } });
    const big = await query(h, { query: "SELECT 1 UNION ALL SELECT randomblob(20000000)" });
    expect(big.json).toMatchObject({ ok: true, rows: [[1]], truncated: true });
    expect(big.json.truncated_reason).toMatch(/Row 2 is larger than 8 MiB/);
    expect(big.text.length).toBeLessThan(10_000);
    // A value SQLite grows without end (up to its 1 GB string limit) never reaches JavaScript.
    const growing = await query(h, { query: "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT group_concat(x) FROM c" });
    expect([growing.status, growing.json.errcode]).toEqual([400, "sql_error"]);
    expect(growing.json.error).toMatch(/more than 128 MiB of memory/);
    expect((await h.request("GET", `${V1}/health`, { token: null })).status).toBe(200);
    expect((await query(h, { query: "SELECT n FROM counter" })).json.rows).toEqual([[0]]);
  });

  it("runs at most queryMaxProcesses console processes; more concurrent queries are answered 429 and /health is answered meanwhile", async () => {
    h = await withDatabase({ limits: { queryTimeoutMs: 5_000, queryMaxProcesses: 4 } });
    const endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";
    const queries = Array.from({ length: 40 }, () => query(h!, { query: endless }));
    const health = [];
    for (let i = 0; i < 5; i++) health.push((await h.request("GET", `${V1}/health`, { token: null })).status);
    const answers = await Promise.all(queries);
    expect(health).toEqual([200, 200, 200, 200, 200]);
    const limited = answers.filter((a) => a.status === 429);
    const stopped = answers.filter((a) => a.json.errcode === "sql_timeout");
    expect(limited.length + stopped.length).toBe(40);
    expect(stopped.length).toBeLessThanOrEqual(4);
    expect(limited.length).toBeGreaterThanOrEqual(36);
    expect(limited[0]!.json).toMatchObject({ errcode: "rate_limited", retry_after_ms: 5_000 });
    // Slots come back once the killed processes have exited: a query after the others answers.
    let after = await query(h, { query: "SELECT n FROM counter" });
    for (let i = 0; i < 100 && after.status === 429; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await query(h, { query: "SELECT n FROM counter" });
    }
    expect(after.json.rows).toEqual([[0]]);
  });

  it("stops a runaway recursive query at the time limit while other requests are answered", async () => {
    h = await withDatabase({ limits: { queryTimeoutMs: 1_500 } });
    // count(*) over an endless CTE never returns to JavaScript: only killing the process stops it.
    const runaway = query(h, { query: "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c" });
    let answered = 0;
    let runawayDone = false;
    void runaway.then(() => {
      runawayDone = true;
    });
    // Requests made while the query runs are answered, and before it is stopped.
    for (let i = 0; i < 5; i++) {
      const res = await h.request("GET", `${V1}/instances`);
      expect(res.status).toBe(200);
      if (!runawayDone) answered++;
    }
    const other = await query(h, { query: "SELECT n FROM counter" });
    expect(other.json.rows).toEqual([[0]]);
    expect(answered).toBeGreaterThan(0);
    const res = await runaway;
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ ok: false, errcode: "sql_timeout" });
  });
});
