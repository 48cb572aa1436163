// Versioned schema of the host database. Each step runs in its own transaction together with
// the version bump, so a crash leaves the database at a whole version. Append new steps; never
// edit a released one.
import type Database from "better-sqlite3";

export interface Migration {
  version: number;
  description: string;
  up(db: Database.Database): void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "client, plugin and instance tables (maubot's fields plus botyard's)",
    up(db) {
      db.exec(`
        CREATE TABLE client (
          id           TEXT PRIMARY KEY,
          homeserver   TEXT NOT NULL,
          access_token TEXT NOT NULL,
          device_id    TEXT NOT NULL,
          enabled      INTEGER NOT NULL CHECK (enabled IN (0, 1)),
          next_batch   TEXT NOT NULL,
          filter_id    TEXT NOT NULL,
          sync         INTEGER NOT NULL CHECK (sync IN (0, 1)),
          autojoin     INTEGER NOT NULL CHECK (autojoin IN (0, 1)),
          online       INTEGER NOT NULL CHECK (online IN (0, 1)),
          displayname  TEXT NOT NULL,
          avatar_url   TEXT NOT NULL
        );
        CREATE TABLE plugin (
          id        TEXT PRIMARY KEY,
          version   TEXT NOT NULL,
          path      TEXT NOT NULL,
          sha256    TEXT NOT NULL,
          loaded_at INTEGER NOT NULL
        );
        CREATE TABLE instance (
          id              TEXT PRIMARY KEY,
          type            TEXT NOT NULL,
          enabled         INTEGER NOT NULL CHECK (enabled IN (0, 1)),
          primary_user    TEXT NOT NULL REFERENCES client (id) ON UPDATE CASCADE ON DELETE RESTRICT,
          config          TEXT NOT NULL,
          database_engine TEXT CHECK (database_engine IS NULL OR database_engine = 'sqlite'),
          isolated        INTEGER NOT NULL DEFAULT 0 CHECK (isolated IN (0, 1)),
          state           TEXT NOT NULL DEFAULT 'stopped'
                          CHECK (state IN ('stopped', 'starting', 'running', 'stopping', 'failed')),
          last_error      TEXT
        );
        CREATE INDEX instance_type ON instance (type);
        CREATE INDEX instance_primary_user ON instance (primary_user);
      `);
    },
  },
  {
    version: 2,
    description: "instance.error_notification_level (records at or above it reach the admin room)",
    up(db) {
      db.exec(`
        ALTER TABLE instance ADD COLUMN error_notification_level TEXT NOT NULL DEFAULT 'ERROR'
          CHECK (error_notification_level IN ('DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL'));
      `);
    },
  },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Brings `db` to the latest version; returns the versions applied. */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get()) refuseForeignTables(db);
  db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  const current = (): number =>
    (db.prepare("SELECT max(version) AS v FROM schema_version").get() as { v: number | null }).v ?? 0;
  const latest = migrations.length ? migrations[migrations.length - 1]!.version : 0;
  if (current() > latest) {
    throw new Error(
      `host database is at schema version ${current()}, newer than this botyard (${latest}); use a newer botyard`,
    );
  }
  const applied: number[] = [];
  for (const step of migrations) {
    if (step.version <= current()) continue;
    db.transaction(() => {
      step.up(db);
      db.prepare("DELETE FROM schema_version").run();
      db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(step.version);
    }).immediate();
    applied.push(step.version);
  }
  return applied;
}

/**
 * A database with tables but no botyard schema version is another program's: most likely
 * maubot's own, named by a maubot config botyard was started on. Never migrate into it.
 */
function refuseForeignTables(db: Database.Database): void {
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'schema_version'").all() as Array<{ name: string }>).map((t) => t.name);
  if (tables.length === 0) return;
  const maubot = tables.includes("client") && tables.includes("instance");
  throw new Error(
    maubot
      ? `${db.name} is maubot's database, not botyard's; botyard does not write into it. Give botyard a database of its own (config.yaml: database) and move maubot's data over with \`botyard import-maubot\``
      : `${db.name} holds tables of another program (${tables.slice(0, 5).join(", ")}); give botyard a database file of its own (config.yaml: database)`,
  );
}
