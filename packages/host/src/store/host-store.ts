// The host's own database: bot accounts (client), loaded bundles (plugin) and instances.
// Synchronous better-sqlite3 calls, so every write is committed when the method returns.
import { chmodSync, closeSync, mkdirSync, openSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import type { ErrCode } from "../errors.js";
import { DEFAULT_NOTIFICATION_LEVEL } from "../logging/notification-level.js";
import { assertDatabaseWhole } from "./integrity.js";
import { migrate } from "./migrations.js";
import type { ClientRow, InstanceRow, InstanceState, PluginRow } from "./types.js";

/** A write the database refused for a reason the API reports with `errcode`. */
export class StoreError extends Error {
  constructor(
    readonly errcode: ErrCode,
    message: string,
  ) {
    super(message);
    this.name = "StoreError";
  }
}

type Flag = 0 | 1;
type ClientRecord = Omit<ClientRow, "enabled" | "sync" | "autojoin" | "online"> & {
  enabled: Flag;
  sync: Flag;
  autojoin: Flag;
  online: Flag;
};
type InstanceRecord = Omit<InstanceRow, "enabled" | "isolated"> & { enabled: Flag; isolated: Flag };

// Each table's columns, primary key first: the upserts and the records written are made from
// these lists (a record missing one of its row's keys does not compile).
const CLIENT_COLUMNS = [
  "id",
  "homeserver",
  "access_token",
  "device_id",
  "enabled",
  "next_batch",
  "filter_id",
  "sync",
  "autojoin",
  "online",
  "displayname",
  "avatar_url",
] as const satisfies readonly (keyof ClientRow)[];
const PLUGIN_COLUMNS = ["id", "version", "path", "sha256", "loaded_at"] as const satisfies readonly (keyof PluginRow)[];
const INSTANCE_COLUMNS = [
  "id",
  "type",
  "enabled",
  "primary_user",
  "config",
  "database_engine",
  "isolated",
  "state",
  "last_error",
  "error_notification_level",
] as const satisfies readonly (keyof InstanceRow)[];

/** INSERT of every column; on a taken primary key (the first column), UPDATE of the others. */
function upsertSql(table: string, columns: readonly string[]): string {
  const [key, ...rest] = columns;
  return `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map((c) => `@${c}`).join(", ")})
    ON CONFLICT (${key}) DO UPDATE SET ${rest.map((c) => `${c} = excluded.${c}`).join(", ")}`;
}

/** Only the table's columns of `row`: callers may hand over objects with more keys. */
function pick<T, K extends keyof T>(row: T, columns: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const c of columns) out[c] = row[c];
  return out;
}

const flag = (b: boolean): Flag => (b ? 1 : 0);

function clientFromRecord(r: ClientRecord): ClientRow {
  return { ...r, enabled: r.enabled === 1, sync: r.sync === 1, autojoin: r.autojoin === 1, online: r.online === 1 };
}
function clientToRecord(c: ClientRow): ClientRecord {
  return { ...pick(c, CLIENT_COLUMNS), enabled: flag(c.enabled), sync: flag(c.sync), autojoin: flag(c.autojoin), online: flag(c.online) };
}
function instanceFromRecord(r: InstanceRecord): InstanceRow {
  return { ...r, enabled: r.enabled === 1, isolated: r.isolated === 1 };
}
function instanceToRecord(i: InstanceRow): InstanceRecord {
  return {
    ...pick(i, INSTANCE_COLUMNS),
    enabled: flag(i.enabled),
    isolated: flag(i.isolated),
    error_notification_level: i.error_notification_level ?? DEFAULT_NOTIFICATION_LEVEL,
  };
}
function pluginToRecord(p: PluginRow): PluginRow {
  return pick(p, PLUGIN_COLUMNS);
}

function sqliteCode(err: unknown): string | undefined {
  return err instanceof Database.SqliteError ? err.code : undefined;
}

/** ON DELETE RESTRICT reports SQLITE_CONSTRAINT_TRIGGER, other FK failures _FOREIGNKEY. */
function isForeignKeyError(err: unknown): boolean {
  return err instanceof Database.SqliteError && err.message.includes("FOREIGN KEY constraint failed");
}

/** Runs an `UPDATE ... SET id = ? WHERE id = ?`; a taken new id throws `taken()`. False when not found. */
function renameRow(stmt: Database.Statement, oldId: string, newId: string, taken: () => StoreError): boolean {
  try {
    return stmt.run(newId, oldId).changes > 0;
  } catch (err) {
    if (sqliteCode(err) === "SQLITE_CONSTRAINT_PRIMARYKEY") throw taken();
    throw err;
  }
}

export class HostStore {
  private readonly stmt;
  private readonly clientListeners = new Set<(row: ClientRow) => void>();

  private constructor(
    /** Exposed for the admin API's read-only inspection and for tests; prefer the methods. */
    readonly db: Database.Database,
    readonly path: string,
  ) {
    const p = (sql: string) => db.prepare(sql);
    this.stmt = {
      listClients: p("SELECT * FROM client ORDER BY id"),
      getClient: p("SELECT * FROM client WHERE id = ?"),
      putClient: p(upsertSql("client", CLIENT_COLUMNS)),
      deleteClient: p("DELETE FROM client WHERE id = ?"),
      renameClient: p("UPDATE client SET id = ? WHERE id = ?"),
      listPlugins: p("SELECT * FROM plugin ORDER BY id"),
      getPlugin: p("SELECT * FROM plugin WHERE id = ?"),
      putPlugin: p(upsertSql("plugin", PLUGIN_COLUMNS)),
      deletePlugin: p("DELETE FROM plugin WHERE id = ?"),
      listInstances: p("SELECT * FROM instance ORDER BY id"),
      getInstance: p("SELECT * FROM instance WHERE id = ?"),
      putInstance: p(upsertSql("instance", INSTANCE_COLUMNS)),
      deleteInstance: p("DELETE FROM instance WHERE id = ?"),
      renameInstance: p("UPDATE instance SET id = ? WHERE id = ?"),
      setInstanceState: p("UPDATE instance SET state = ?, last_error = ? WHERE id = ?"),
      instancesOfPlugin: p("SELECT * FROM instance WHERE type = ? ORDER BY id"),
      instancesOfClient: p("SELECT * FROM instance WHERE primary_user = ? ORDER BY id"),
    };
  }

  /**
   * Opens (creating if needed) and migrates the database at `file`. A damaged file is refused
   * (DamagedDatabaseError) before anything is written to it.
   */
  static open(file: string): HostStore {
    const absolute = path.resolve(file);
    assertDatabaseWhole(absolute);
    mkdirSync(path.dirname(absolute), { recursive: true, mode: 0o700 });
    // It holds the bots' access tokens: private to the user. SQLite gives its -wal and -shm
    // files the database file's mode, and a file made 0644 by an older version is tightened.
    closeSync(openSync(absolute, "a", 0o600));
    chmodSync(absolute, 0o600);
    const db = new Database(absolute, { timeout: 5000 });
    try {
      db.pragma("journal_mode = WAL");
      // NORMAL is durable in WAL mode except for the last commits on power loss (not on a
      // process crash or kill -9); the pragma is per connection, so set it explicitly.
      db.pragma("synchronous = NORMAL");
      db.pragma("foreign_keys = ON");
      migrate(db);
      return new HostStore(db, absolute);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  /** Closes the database; safe to call twice. */
  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Runs `fn` in one transaction (synchronous; never await inside). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  // ---- clients ----

  listClients(): ClientRow[] {
    return (this.stmt.listClients.all() as ClientRecord[]).map(clientFromRecord);
  }

  getClient(id: string): ClientRow | undefined {
    const r = this.stmt.getClient.get(id) as ClientRecord | undefined;
    return r && clientFromRecord(r);
  }

  /** Inserts or replaces the client with `row.id`. */
  putClient(row: ClientRow): void {
    this.stmt.putClient.run(clientToRecord(row));
    for (const fn of this.clientListeners) fn(row);
  }

  /**
   * Calls `fn` after every putClient, whoever wrote it (the daemon uses this to add each bot's
   * access token to the log scrubber). Returns a function that removes it.
   */
  onClientStored(fn: (row: ClientRow) => void): () => void {
    this.clientListeners.add(fn);
    return () => {
      this.clientListeners.delete(fn);
    };
  }

  /** Returns false when there was no such client; refuses while instances use it. */
  deleteClient(id: string): boolean {
    try {
      return this.stmt.deleteClient.run(id).changes > 0;
    } catch (err) {
      if (isForeignKeyError(err)) {
        throw new StoreError("client_in_use", `client ${id} is the primary user of instances and cannot be deleted`);
      }
      throw err;
    }
  }

  /** Changes a client's id; its instances follow (ON UPDATE CASCADE). False when not found. */
  renameClient(oldId: string, newId: string): boolean {
    return renameRow(this.stmt.renameClient, oldId, newId, () => new StoreError("user_exists", `client ${newId} exists already`));
  }

  // ---- plugins ----

  listPlugins(): PluginRow[] {
    return (this.stmt.listPlugins.all() as PluginRow[]).map(pluginToRecord);
  }

  getPlugin(id: string): PluginRow | undefined {
    const r = this.stmt.getPlugin.get(id) as PluginRow | undefined;
    return r && pluginToRecord(r);
  }

  putPlugin(row: PluginRow): void {
    this.stmt.putPlugin.run(pluginToRecord(row));
  }

  deletePlugin(id: string): boolean {
    return this.stmt.deletePlugin.run(id).changes > 0;
  }

  // ---- instances ----

  listInstances(): InstanceRow[] {
    return (this.stmt.listInstances.all() as InstanceRecord[]).map(instanceFromRecord);
  }

  getInstance(id: string): InstanceRow | undefined {
    const r = this.stmt.getInstance.get(id) as InstanceRecord | undefined;
    return r && instanceFromRecord(r);
  }

  /** Inserts or replaces the instance with `row.id`; its primary_user must exist. */
  putInstance(row: InstanceRow): void {
    try {
      this.stmt.putInstance.run(instanceToRecord(row));
    } catch (err) {
      if (isForeignKeyError(err)) {
        throw new StoreError("primary_user_not_found", `client ${row.primary_user} does not exist`);
      }
      throw err;
    }
  }

  deleteInstance(id: string): boolean {
    return this.stmt.deleteInstance.run(id).changes > 0;
  }

  /** Changes an instance's id. False when `oldId` does not exist. */
  renameInstance(oldId: string, newId: string): boolean {
    return renameRow(this.stmt.renameInstance, oldId, newId, () => new StoreError("invalid_id", `instance ${newId} exists already`));
  }

  /** Records a state change (and the last error, null to clear it). False when not found. */
  setInstanceState(id: string, state: InstanceState, lastError: string | null): boolean {
    return this.stmt.setInstanceState.run(state, lastError, id).changes > 0;
  }

  instancesOfPlugin(pluginId: string): InstanceRow[] {
    return (this.stmt.instancesOfPlugin.all(pluginId) as InstanceRecord[]).map(instanceFromRecord);
  }

  instancesOfClient(clientId: string): InstanceRow[] {
    return (this.stmt.instancesOfClient.all(clientId) as InstanceRecord[]).map(instanceFromRecord);
  }
}
