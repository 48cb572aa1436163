// `botyard backup` and `botyard restore`: copies of the host database and every instance
// database, taken while the daemon runs. Each copy is `VACUUM INTO` from a read connection: one
// read transaction, so the copy is one consistent moment of that database even while the daemon
// writes (WAL mode lets it go on meanwhile), compacted, and without a -wal file to forget.
// The bot accounts' crypto stores go along (their devices' keys: without them a restored account
// cannot decrypt until it logs in again as a new device), with the store key file.
import { createHash } from "node:crypto";
import { chmodSync, closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { isCryptoStoreFileName, isJournalFileName, journalFileOf } from "./crypto-store-files.js";
import { quickCheckProblems } from "./integrity.js";

export const MANIFEST_FILE = "botyard-backup.json";
const HOST_COPY = "host.db";
const INSTANCES_FOLDER = "databases";
/** Instance database files as the supervisor names them: `<instance id>.db`. */
const isInstanceFile = (name: string) => /^[^/\\]+\.db$/.test(name);
const CRYPTO_FOLDER = "crypto";
/** A store file rewritten while it was copied is copied again, at most this many times. */
const CRYPTO_COPY_TRIES = 5;

export interface BackupFile {
  /** Path inside the backup folder. */
  file: string;
  bytes: number;
  sha256: string;
}

export interface BackupManifest {
  format: 1;
  created_at: string;
  botyard_version: string;
  host: BackupFile;
  /** Instance databases by file name (`<instance id>.db`). */
  instances: Record<string, BackupFile>;
  /** Crypto store files by name (absent in backups made before they were included). */
  crypto?: Record<string, BackupFile>;
}

export interface DatabasePaths {
  /** The host database (config `database`). */
  hostDatabase: string;
  /** The instance databases' folder (config `plugin_databases.sqlite`). */
  instanceFolder: string;
  /** The crypto stores' folder (config `encryption.store`). */
  cryptoFolder?: string;
}

/** Refused for a reason the operator can fix; the message says how. */
export class BackupError extends Error {
  override name = "BackupError";
}

/** The file's sha256, read in chunks (an instance database may be larger than memory allows). */
function sha256(file: string): string {
  const hash = createHash("sha256");
  const chunk = Buffer.alloc(1024 * 1024);
  const fd = openSync(file, "r");
  try {
    for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) hash.update(chunk.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}

/** A consistent copy of the database `source` at `target` (a new file, mode 0600). */
function copyDatabase(source: string, target: string): void {
  // VACUUM INTO fills an empty file: made first, so it is private from the start.
  closeSync(openSync(target, "wx", 0o600));
  const db = new Database(source, { readonly: true, fileMustExist: true, timeout: 10_000 });
  try {
    db.prepare("VACUUM INTO ?").run(target);
  } finally {
    db.close();
  }
}

function filesIn(folder: string | undefined, wanted: (name: string) => boolean): string[] {
  if (!folder) return [];
  try {
    return readdirSync(folder).filter(wanted).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}

const identity = (file: string) => {
  const st = statSync(file, { throwIfNoEntry: false });
  return st ? `${st.ino}:${st.size}:${st.mtimeMs}` : "none";
};

/**
 * Copies the crypto stores. A store file is replaced whole now and then (crypto-store.ts) and its
 * journal restarted: the pair is copied again until the store file stayed the same meanwhile, so
 * the journal copied belongs to the store copied. Appends to the journal during the copy are left
 * for the next backup (a frame cut short is left out when the store is read).
 */
function copyCryptoStores(cryptoFolder: string | undefined, folder: string): Record<string, BackupFile> {
  const names = filesIn(cryptoFolder, isCryptoStoreFileName);
  if (!cryptoFolder || names.length === 0) return {};
  mkdirSync(path.join(folder, CRYPTO_FOLDER), { mode: 0o700 });
  const copies: Record<string, BackupFile> = {};
  const copy = (name: string) => {
    const target = path.join(folder, CRYPTO_FOLDER, name);
    copyFileSync(path.join(cryptoFolder, name), target);
    chmodSync(target, 0o600);
    copies[name] = described(folder, path.join(CRYPTO_FOLDER, name));
  };
  for (const name of names.filter((n) => !isJournalFileName(n))) {
    const log = journalFileOf(name);
    for (let tries = 1; ; tries++) {
      const before = identity(path.join(cryptoFolder, name));
      // Gone meanwhile: the account was deleted.
      if (before === "none") break;
      copy(name);
      if (existsSync(path.join(cryptoFolder, log))) copy(log);
      if (identity(path.join(cryptoFolder, name)) === before) break;
      if (tries === CRYPTO_COPY_TRIES) throw new BackupError(`the crypto store ${path.join(cryptoFolder, name)} kept changing while it was copied; run the backup again`);
    }
  }
  return copies;
}

function described(folder: string, file: string): BackupFile {
  const full = path.join(folder, file);
  return { file, bytes: statSync(full).size, sha256: sha256(full) };
}

/** Writes a backup of every database into `folder`, which must not exist or be empty. */
export function backupDatabases(paths: DatabasePaths, folder: string, version: string): BackupManifest {
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  if (readdirSync(folder).length > 0) throw new BackupError(`${folder} is not empty; give a new or empty folder for the backup`);
  mkdirSync(path.join(folder, INSTANCES_FOLDER), { mode: 0o700 });
  copyDatabase(paths.hostDatabase, path.join(folder, HOST_COPY));
  const instances: Record<string, BackupFile> = {};
  for (const name of filesIn(paths.instanceFolder, isInstanceFile)) {
    const file = path.join(INSTANCES_FOLDER, name);
    copyDatabase(path.join(paths.instanceFolder, name), path.join(folder, file));
    instances[name] = described(folder, file);
  }
  const crypto = copyCryptoStores(paths.cryptoFolder, folder);
  const manifest: BackupManifest = {
    format: 1,
    created_at: new Date().toISOString(),
    botyard_version: version,
    host: described(folder, HOST_COPY),
    instances,
    crypto,
  };
  // The manifest last: a folder without one is an unfinished backup and restore refuses it.
  writeFileSync(path.join(folder, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  return manifest;
}

function readManifest(folder: string): BackupManifest {
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(folder, MANIFEST_FILE), "utf8")) as BackupManifest;
  } catch (err) {
    throw new BackupError(`${folder} holds no readable ${MANIFEST_FILE} (${(err as Error).message}); is it a finished botyard backup?`);
  }
  if (manifest.format !== 1 || typeof manifest.host?.file !== "string" || typeof manifest.instances !== "object" || manifest.instances === null) {
    throw new BackupError(`${path.join(folder, MANIFEST_FILE)} is not a botyard backup manifest (format 1)`);
  }
  for (const name of Object.keys(manifest.instances)) {
    if (!isInstanceFile(name)) throw new BackupError(`${MANIFEST_FILE} names an instance database "${name}" that is not a plain file name`);
  }
  if (manifest.crypto !== undefined && (typeof manifest.crypto !== "object" || manifest.crypto === null)) {
    throw new BackupError(`${MANIFEST_FILE}: "crypto" is not an object of crypto store files`);
  }
  for (const name of Object.keys(manifest.crypto ?? {})) {
    if (!isCryptoStoreFileName(name)) throw new BackupError(`${MANIFEST_FILE} names a crypto store file "${name}" that is not a store, its journal or pickle.key`);
  }
  return manifest;
}

/** Every file of the backup is there, unchanged (sha256) and (a database) a whole SQLite database. */
function verified(folder: string, entry: BackupFile, sqlite = true): string {
  const full = path.resolve(folder, entry.file);
  if (path.relative(folder, full).startsWith("..")) throw new BackupError(`${MANIFEST_FILE} points outside the backup folder: ${entry.file}`);
  let digest: string;
  try {
    digest = sha256(full);
  } catch (err) {
    throw new BackupError(`the backup file ${full} cannot be read (${(err as NodeJS.ErrnoException).code}); the backup is incomplete`);
  }
  if (digest !== entry.sha256) throw new BackupError(`the backup file ${full} changed since the backup was made (sha256 differs); not restoring`);
  if (!sqlite) return full;
  const problems = quickCheckProblems(full);
  if (problems) throw new BackupError(`the backup file ${full} is damaged (${problems}); not restoring`);
  return full;
}

/** Replaces `target` by a copy of `source` in one rename; a database's old -wal/-shm must not outlive it. */
function replaceFile(source: string, target: string): void {
  mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
  const temporary = `${target}.restoring`;
  rmSync(temporary, { force: true });
  copyFileSync(source, temporary);
  chmodSync(temporary, 0o600);
  const fd = openSync(temporary, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  // A -wal left beside the restored file would be replayed into it by the next open.
  for (const suffix of ["-wal", "-shm", "-journal"]) rmSync(`${target}${suffix}`, { force: true });
  renameSync(temporary, target);
}

/**
 * Puts the databases of the backup in `folder` in place. Everything is verified first, so a
 * damaged or incomplete backup changes nothing; then each file is replaced atomically, the host
 * database last. The daemon must not be running (the caller checks).
 */
export function restoreDatabases(paths: DatabasePaths, folder: string): BackupManifest {
  const root = path.resolve(folder);
  const manifest = readManifest(root);
  const host = verified(root, manifest.host);
  const instances = Object.entries(manifest.instances).map(([name, entry]) => [name, verified(root, entry)] as const);
  const crypto = Object.entries(manifest.crypto ?? {}).map(([name, entry]) => [name, verified(root, entry, false)] as const);
  if (crypto.length > 0 && !paths.cryptoFolder) throw new BackupError("the backup holds crypto stores, but the config names no encryption.store folder");
  for (const [name, source] of instances) replaceFile(source, path.join(paths.instanceFolder, name));
  for (const [name, source] of crypto) {
    const target = path.join(paths.cryptoFolder as string, name);
    replaceFile(source, target);
    // A store without its journal in the backup: the journal beside it now continues another state.
    if (name.endsWith(".store") && !manifest.crypto?.[`${name}.log`]) rmSync(`${target}.log`, { force: true });
  }
  replaceFile(host, paths.hostDatabase);
  return manifest;
}
