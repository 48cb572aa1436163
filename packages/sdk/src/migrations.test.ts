import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SqlDatabase } from "./contract.js";
import { MigrationError, UpgradeTable, databaseVersion, runMigrations } from "./migrations.js";

describe("runMigrations", () => {
  let dir: string;
  let db: Database.Database;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "botyard-sdk-mig-"));
    db = new Database(join(dir, "instance.db"));
    db.pragma("journal_mode = WAL");
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const sdb = (): SqlDatabase => db as unknown as SqlDatabase;

  const v1 = () =>
    new UpgradeTable()
      .register("create counters", (d) => d.exec("CREATE TABLE counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL)"))
      .register("seed pings", (d) => d.prepare("INSERT INTO counter VALUES ('pings', 0)").run());

  it("applies every step on a fresh database and records the version", () => {
    const result = runMigrations(sdb(), v1());
    expect(result).toEqual({ from: 0, to: 2, applied: ["create counters", "seed pings"] });
    expect(databaseVersion(sdb())).toBe(2);
    expect(db.prepare("SELECT value FROM counter WHERE name = 'pings'").get()).toEqual({ value: 0 });
  });

  it("applies only the new steps on a later run", () => {
    runMigrations(sdb(), v1());
    const v2 = v1().register("add updated_at", (d) => d.exec("ALTER TABLE counter ADD COLUMN updated_at INTEGER"));
    const steps: number[] = [];
    const result = runMigrations(sdb(), v2, (v) => steps.push(v));
    expect(result).toEqual({ from: 2, to: 3, applied: ["add updated_at"] });
    expect(steps).toEqual([3]);
    expect(runMigrations(sdb(), v2).applied).toEqual([]);
    expect(db.prepare("SELECT COUNT(*) AS n FROM version").get()).toEqual({ n: 1 });
  });

  it("rolls a failing step back and keeps the previous version", () => {
    runMigrations(sdb(), v1());
    const broken = v1().register("half done", (d) => {
      d.exec("CREATE TABLE half (x INTEGER)");
      throw new Error("boom");
    });
    expect(() => runMigrations(sdb(), broken)).toThrow(MigrationError);
    expect(() => runMigrations(sdb(), broken)).toThrow(/upgrade to version 3 \(half done\) failed: boom/);
    expect(databaseVersion(sdb())).toBe(2);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get()).toBeUndefined();
  });

  it("refuses a database newer than the plugin", () => {
    runMigrations(sdb(), v1());
    const older = new UpgradeTable().register("create counters", () => undefined);
    expect(() => runMigrations(sdb(), older)).toThrow(/version 2 but this plugin knows only 1/);
  });

  it("accepts a plain list of steps", () => {
    const result = runMigrations(sdb(), [{ description: "t", up: (d) => void d.exec("CREATE TABLE t (x)") }]);
    expect(result.to).toBe(1);
  });
});
