// The host's own database: bot accounts (client), loaded bundles (plugin) and instances.
// Synchronous better-sqlite3 calls, so every write is committed when the method returns.
import { mkdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import type { ErrCode } from "../errors.js";
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

const flag = (b: boolean): Flag => (b ? 1 : 0);

function clientFromRecord(r: ClientRecord): ClientRow {
  return { ...r, enabled: r.enabled === 1, sync: r.sync === 1, autojoin: r.autojoin === 1, online: r.online === 1 };
}
function clientToRecord(c: ClientRow): ClientRecord {
  return {
    id: c.id,
    homeserver: c.homeserver,
    access_token: c.access_token,
    device_id: c.device_id,
    enabled: flag(c.enabled),
    next_batch: c.next_batch,
    filter_id: c.filter_id,
    sync: flag(c.sync),
    autojoin: flag(c.autojoin),
    online: flag(c.online),
    displayname: c.displayname,
    avatar_url: c.avatar_url,
  };
}
function instanceFromRecord(r: InstanceRecord): InstanceRow {
  return { ...r, enabled: r.enabled === 1, isolated: r.isolated === 1 };
}
function instanceToRecord(i: InstanceRow): InstanceRecord {
  return {
    id: i.id,
    type: i.type,
    enabled: flag(i.enabled),
    primary_user: i.primary_user,
    config: i.config,
    database_engine: i.database_engine,
    isolated: flag(i.isolated),
    state: i.state,
    last_error: i.last_error,
  };
}
function pluginToRecord(p: PluginRow): PluginRow {
  return { id: p.id, version: p.version, path: p.path, sha256: p.sha256, loaded_at: p.loaded_at };
}

function sqliteCode(err: unknown): string | undefined {
  return err instanceof Database.SqliteError ? err.code : undefined;
}

/** ON DELETE RESTRICT reports SQLITE_CONSTRAINT_TRIGGER, other FK failures _FOREIGNKEY. */
function isForeignKeyError(err: unknown): boolean {
  return err instanceof Database.SqliteError && err.message.includes("FOREIGN KEY constraint failed");
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
      putClient: p(`INSERT INTO client (id, homeserver, access_token, device_id, enabled, next_batch, filter_id,
          sync, autojoin, online, displayname, avatar_url)
        VALUES (@id, @homeserver, @access_token, @device_id, @enabled, @next_batch, @filter_id,
          @sync, @autojoin, @online, @displayname, @avatar_url)
        ON CONFLICT (id) DO UPDATE SET homeserver = excluded.homeserver, access_token = excluded.access_token,
          device_id = excluded.device_id, enabled = excluded.enabled, next_batch = excluded.next_batch,
          filter_id = excluded.filter_id, sync = excluded.sync, autojoin = excluded.autojoin,
          online = excluded.online, displayname = excluded.displayname, avatar_url = excluded.avatar_url`),
      deleteClient: p("DELETE FROM client WHERE id = ?"),
      renameClient: p("UPDATE client SET id = ? WHERE id = ?"),
      listPlugins: p("SELECT * FROM plugin ORDER BY id"),
      getPlugin: p("SELECT * FROM plugin WHERE id = ?"),
      putPlugin: p(`INSERT INTO plugin (id, version, path, sha256, loaded_at)
        VALUES (@id, @version, @path, @sha256, @loaded_at)
        ON CONFLICT (id) DO UPDATE SET version = excluded.version, path = excluded.path,
          sha256 = excluded.sha256, loaded_at = excluded.loaded_at`),
      deletePlugin: p("DELETE FROM plugin WHERE id = ?"),
      listInstances: p("SELECT * FROM instance ORDER BY id"),
      getInstance: p("SELECT * FROM instance WHERE id = ?"),
      putInstance: p(`INSERT INTO instance (id, type, enabled, primary_user, config, database_engine, isolated,
          state, last_error)
        VALUES (@id, @type, @enabled, @primary_user, @config, @database_engine, @isolated, @state, @last_error)
        ON CONFLICT (id) DO UPDATE SET type = excluded.type, enabled = excluded.enabled,
          primary_user = excluded.primary_user, config = excluded.config,
          database_engine = excluded.database_engine, isolated = excluded.isolated, state = excluded.state,
          last_error = excluded.last_error`),
      deleteInstance: p("DELETE FROM instance WHERE id = ?"),
      renameInstance: p("UPDATE instance SET id = ? WHERE id = ?"),
      setInstanceState: p("UPDATE instance SET state = ?, last_error = ? WHERE id = ?"),
      instancesOfPlugin: p("SELECT * FROM instance WHERE type = ? ORDER BY id"),
      instancesOfClient: p("SELECT * FROM instance WHERE primary_user = ? ORDER BY id"),
    };
  }

  /** Opens (creating if needed) and migrates the database at `file`. */
  static open(file: string): HostStore {
    const absolute = path.resolve(file);
    mkdirSync(path.dirname(absolute), { recursive: true });
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
    try {
      return this.stmt.renameClient.run(newId, oldId).changes > 0;
    } catch (err) {
      if (sqliteCode(err) === "SQLITE_CONSTRAINT_PRIMARYKEY") {
        throw new StoreError("user_exists", `client ${newId} exists already`);
      }
      throw err;
    }
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
    try {
      return this.stmt.renameInstance.run(newId, oldId).changes > 0;
    } catch (err) {
      if (sqliteCode(err) === "SQLITE_CONSTRAINT_PRIMARYKEY") {
        throw new StoreError("invalid_id", `instance ${newId} exists already`);
      }
      throw err;
    }
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
