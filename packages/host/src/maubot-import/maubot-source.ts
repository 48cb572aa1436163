// Reads a maubot data folder without touching it: its config.yaml (as plain YAML), and copies of
// its main database and plugin databases taken into a private temporary folder before SQLite
// opens them (opening a WAL database, even read-only, writes -wal/-shm files beside it).
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import YAML from "yaml";

/** The maubot folder cannot be imported; the message says why and what to do. */
export class MaubotImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MaubotImportError";
  }
}

export interface MaubotClient {
  id: string;
  homeserver: string;
  access_token: string;
  device_id: string;
  enabled: boolean;
  sync: boolean;
  autojoin: boolean;
  online: boolean;
  displayname: string;
  avatar_url: string;
}

export interface MaubotInstance {
  id: string;
  type: string;
  enabled: boolean;
  primary_user: string;
  /** The YAML text maubot stores verbatim ("" when never given one). */
  config: string;
  database_engine: string | null;
}

export interface MaubotSource {
  configPath: string;
  /** maubot's config.yaml as plain data. */
  config: Record<string, unknown>;
  mainDatabase: string;
  /** maubot's folders: plugin databases (plugin_databases.sqlite) and uploads (plugin_directories.upload). */
  pluginDatabaseDir: string;
  uploadDir: string;
  clients: MaubotClient[];
  instances: MaubotInstance[];
  /** A checked private copy of an instance's database, or null when maubot has none for it. */
  instanceDatabase(id: string): string | null;
  /** Removes the private copies. */
  close(): void;
}

const REQUIRED_COLUMNS: Record<string, readonly string[]> = {
  client: ["id", "homeserver", "access_token", "device_id", "enabled", "sync", "autojoin", "online", "displayname", "avatar_url"],
  instance: ["id", "type", "enabled", "primary_user", "config"],
};

/** maubot's `database` setting → the SQLite file, relative paths against maubot's folder. */
function sqlitePath(url: string, baseDir: string, configPath: string): string {
  if (/^postgres(ql)?:/i.test(url)) {
    throw new MaubotImportError(
      `${configPath}: maubot keeps its data in PostgreSQL (${url.replace(/\/\/[^@/]*@/, "//…@")}); botyard imports only SQLite. ` +
        "Move maubot to SQLite first, or copy the client and instance tables by hand.",
    );
  }
  const file = url.replace(/^sqlite:(\/\/\/?)?/, "");
  return path.resolve(baseDir, file);
}

/** Copies `file` (and a pending -wal) into `dir` and checks the copy is a sound SQLite database. */
function privateCopy(file: string, dir: string, what: string): string {
  const copy = path.join(dir, path.basename(file));
  copyFileSync(file, copy);
  if (existsSync(`${file}-wal`)) copyFileSync(`${file}-wal`, `${copy}-wal`);
  let db: Database.Database | null = null;
  try {
    db = new Database(copy, { fileMustExist: true });
    const check = db.pragma("quick_check", { simple: true });
    if (check !== "ok") throw new Error(String(check));
  } catch (err) {
    const why = (err as Error).message.split("\n").filter((l) => l && !l.startsWith("***")).slice(0, 2).join("; ");
    throw new MaubotImportError(`${what} ${file} is not a usable SQLite database (${why}); nothing was imported.`);
  } finally {
    db?.close();
  }
  return copy;
}

function readTable<T>(db: Database.Database, table: string, file: string): T[] {
  const columns = new Set((db.pragma(`table_info(${table})`) as Array<{ name: string }>).map((c) => c.name));
  const missing = REQUIRED_COLUMNS[table]!.filter((c) => !columns.has(c));
  if (columns.size === 0 || missing.length > 0) {
    throw new MaubotImportError(
      `${file} is not a maubot database: ${columns.size === 0 ? `it has no ${table} table` : `its ${table} table lacks ${missing.join(", ")}`}; nothing was imported.`,
    );
  }
  return db.prepare(`SELECT * FROM ${table} ORDER BY id`).all() as T[];
}

const bool = (v: unknown): boolean => v === 1 || v === true || v === "1" || v === "t" || v === "true";

/** `source`: maubot's data folder (holding config.yaml) or its config.yaml. */
export function readMaubotSource(source: string): MaubotSource {
  const given = path.resolve(source);
  if (!existsSync(given)) throw new MaubotImportError(`${given} does not exist; give maubot's data folder or its config.yaml.`);
  const configPath = statSync(given).isDirectory() ? path.join(given, "config.yaml") : given;
  if (!existsSync(configPath)) throw new MaubotImportError(`${configPath} does not exist; give maubot's data folder (the one holding config.yaml) or its config.yaml.`);
  let config: unknown;
  try {
    config = YAML.parse(readFileSync(configPath, "utf8"), { maxAliasCount: 100 });
  } catch (err) {
    throw new MaubotImportError(`${configPath} is not valid YAML: ${(err as Error).message.split("\n")[0]}`);
  }
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new MaubotImportError(`${configPath} is not a maubot config (it is not a mapping of settings).`);
  }
  const settings = config as Record<string, unknown>;
  // maubot resolves relative paths against its working folder: the one holding config.yaml.
  const baseDir = path.dirname(configPath);
  const mainDatabase = sqlitePath(String(settings.database ?? "sqlite:maubot.db"), baseDir, configPath);
  if (!existsSync(mainDatabase)) throw new MaubotImportError(`maubot's database ${mainDatabase} does not exist (config.yaml: database).`);
  const pluginDbSetting = (settings.plugin_databases as { sqlite?: unknown } | undefined)?.sqlite;
  const pluginDbDir = path.resolve(baseDir, typeof pluginDbSetting === "string" ? pluginDbSetting : "./plugins");
  const uploadSetting = (settings.plugin_directories as { upload?: unknown } | undefined)?.upload;
  const uploadDir = path.resolve(baseDir, typeof uploadSetting === "string" ? uploadSetting : "./plugins");

  const tempDir = mkdtempSync(path.join(tmpdir(), "botyard-import-"));
  try {
    const db = new Database(privateCopy(mainDatabase, tempDir, "maubot's database"), { fileMustExist: true });
    let clients: MaubotClient[];
    let instances: MaubotInstance[];
    try {
      clients = readTable<Record<string, unknown>>(db, "client", mainDatabase).map((r) => ({
        id: String(r.id),
        homeserver: String(r.homeserver),
        access_token: String(r.access_token),
        device_id: String(r.device_id ?? ""),
        enabled: bool(r.enabled),
        sync: bool(r.sync),
        autojoin: bool(r.autojoin),
        online: bool(r.online),
        displayname: String(r.displayname ?? "disable"),
        avatar_url: String(r.avatar_url ?? "disable"),
      }));
      instances = readTable<Record<string, unknown>>(db, "instance", mainDatabase).map((r) => ({
        id: String(r.id),
        type: String(r.type),
        enabled: bool(r.enabled),
        primary_user: String(r.primary_user),
        config: typeof r.config === "string" ? r.config : "",
        database_engine: typeof r.database_engine === "string" ? r.database_engine : null,
      }));
    } finally {
      db.close();
    }
    const copies = new Map<string, string | null>();
    // Check every plugin database before anything is written.
    for (const instance of instances) {
      const file = path.join(pluginDbDir, `${instance.id}.db`);
      if (!existsSync(file)) {
        copies.set(instance.id, null);
        continue;
      }
      const dir = mkdtempSync(path.join(tempDir, "db-"));
      copies.set(instance.id, privateCopy(file, dir, `the database of instance ${instance.id}`));
    }
    return {
      configPath,
      config: settings,
      mainDatabase,
      pluginDatabaseDir: pluginDbDir,
      uploadDir,
      clients,
      instances,
      instanceDatabase: (id) => copies.get(id) ?? null,
      close: () => rmSync(tempDir, { recursive: true, force: true }),
    };
  } catch (err) {
    rmSync(tempDir, { recursive: true, force: true });
    throw err;
  }
}
