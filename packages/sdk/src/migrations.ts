// Ordered database upgrades for an instance's SQLite file, as mautrix's UpgradeTable: step N
// brings the schema from version N-1 to N; the version is kept in a one-row `version` table;
// each step and its version bump run in one transaction, so a failing step leaves the database
// at the previous version.

import type { SqlDatabase } from "./contract.js";

export interface Migration {
  /** Shown in logs and errors. */
  description: string;
  /** Synchronous (better-sqlite3 transactions cannot span an await). */
  up(db: SqlDatabase): void;
}

export class UpgradeTable {
  readonly #steps: Migration[] = [];

  /** Adds the next step; returns the table so calls can be chained. */
  register(description: string, up: (db: SqlDatabase) => void): this {
    this.#steps.push({ description, up });
    return this;
  }

  get steps(): readonly Migration[] {
    return this.#steps;
  }

  /** The version a database has after every step ran. */
  get latestVersion(): number {
    return this.#steps.length;
  }
}

export class MigrationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "MigrationError";
  }
}

export interface MigrationResult {
  from: number;
  to: number;
  applied: string[];
}

/** The schema version stored in `db` (0 for a fresh database). */
export function databaseVersion(db: SqlDatabase): number {
  db.exec("CREATE TABLE IF NOT EXISTS version (version INTEGER PRIMARY KEY)");
  const row = db.prepare("SELECT version FROM version LIMIT 1").get() as { version: number } | undefined;
  return row?.version ?? 0;
}

/**
 * Brings `db` to the latest version. A database newer than the steps (a downgraded plugin) is
 * refused rather than used with a schema the code does not know.
 */
export function runMigrations(
  db: SqlDatabase,
  table: UpgradeTable | readonly Migration[],
  onStep?: (version: number, description: string) => void,
): MigrationResult {
  const steps = table instanceof UpgradeTable ? table.steps : table;
  const from = databaseVersion(db);
  if (from > steps.length) {
    throw new MigrationError(`database is at version ${from} but this plugin knows only ${steps.length} upgrade steps (was the plugin downgraded?)`);
  }
  const applied: string[] = [];
  for (let version = from + 1; version <= steps.length; version++) {
    const step = steps[version - 1]!;
    const apply = db.transaction(() => {
      step.up(db);
      db.prepare("DELETE FROM version").run();
      db.prepare("INSERT INTO version (version) VALUES (?)").run(version);
    });
    try {
      apply();
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new MigrationError(`upgrade to version ${version} (${step.description}) failed: ${why}`, { cause: err });
    }
    applied.push(step.description);
    onStep?.(version, step.description);
  }
  return { from, to: steps.length, applied };
}
