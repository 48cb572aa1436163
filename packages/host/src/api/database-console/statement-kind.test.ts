import { describe, expect, it } from "vitest";
import { forbiddenReason, statementKind } from "./statement-kind.js";

describe("statementKind", () => {
  it("reads the first keyword past whitespace, comments and empty statements, as SQLite does", () => {
    const cases: Array<[string, string]> = [
      ["SELECT 1", "SELECT"],
      ["  \t\r\n\f\vvacuum", "VACUUM"],
      ["/*/ x */ VACUUM INTO '/tmp/v.db'", "VACUUM"],
      [";VACUUM INTO '/tmp/v.db'", "VACUUM"],
      [";; ;\n;PRAGMA table_info(t)", "PRAGMA"],
      ["-- a comment\n/* another */;AtTaCh 'x' AS y", "ATTACH"],
      ["/**/DETACH y", "DETACH"],
      ["/* never closed", ""],
      ["-- only a comment", ""],
      ["WITH c AS (SELECT 1) DELETE FROM t", "WITH"],
      ['"VACUUM"', ""],
      ["[PRAGMA]", ""],
      ["'VACUUM'", ""],
      // SQLite reads every non-ASCII byte as part of an identifier: not the keyword.
      ["\u00a0VACUUM", "\u00a0VACUUM"],
      ["vacuum/**/into 'x'", "VACUUM"],
    ];
    for (const [sql, keyword] of cases) expect(statementKind(sql).keyword, sql).toBe(keyword);
  });

  it("looks through EXPLAIN and EXPLAIN QUERY PLAN", () => {
    expect(statementKind("EXPLAIN VACUUM")).toMatchObject({ keyword: "VACUUM", explain: true });
    expect(statementKind("explain /* x */ query plan ;pragma foo")).toMatchObject({ keyword: "PRAGMA", explain: true });
    expect(statementKind("EXPLAIN SELECT 1")).toMatchObject({ keyword: "SELECT", explain: true });
    expect(statementKind("SELECT 1").explain).toBe(false);
  });

  it("gives the offset where the statement itself starts", () => {
    const sql = "-- c\n ;/* d */ SELECT 1";
    expect(sql.slice(statementKind(sql).start)).toBe("SELECT 1");
  });

  it("refuses ATTACH, DETACH, PRAGMA and VACUUM only", () => {
    for (const sql of ["ATTACH 'a' AS b", "detach b", "PRAGMA x", "VACUUM", "EXPLAIN VACUUM"]) expect(forbiddenReason(statementKind(sql)), sql).toMatch(/not allowed/);
    for (const sql of ["SELECT 1", "UPDATE t SET x = 1", "WITH a AS (SELECT 1) SELECT * FROM a", "SELECT * FROM pragma_table_info('t')"]) {
      expect(forbiddenReason(statementKind(sql)), sql).toBeNull();
    }
  });
});
