// One bot account's crypto store: the Rust crypto's IndexedDB databases (indexeddb.ts) kept in a
// file in the data folder, `<encryption.store>/<url-encoded user id>.store`, read back on the next
// start. What committed writes change is appended to its journal (`.store.log`,
// crypto-store-journal.ts) shortly after each write (debounced) and when the client stops; the
// whole file is written again only when the journal has grown to the file's size (or 256 KiB),
// or a database's schema changed. An idle account changes one record per /sync; rewriting every
// store for it was most of the daemon's idle CPU.
//
// The file is encrypted with AES-256-GCM under a key derived (HKDF-SHA256) from the config's
// crypto_db_pickle_key and the user id; the Rust store's own values are encrypted as well, with
// another key derived the same way (`storageKey`). A wrong key or a damaged file fails the GCM
// check and the caller gets a CryptoStoreError saying what to do.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { deserialize, serialize } from "node:v8";
import type { Logger } from "pino";
import { cryptoStoreFile, journalFileOf, PICKLE_KEY_FILE, tempFileOf } from "../../store/crypto-store-files.js";
import { appendFrame, JournalDamagedError, newJournalId, readJournal, startJournal } from "./crypto-store-journal.js";
import { applyChanges, DatabaseChanges, onCommit, readChanges, type StoreChanges } from "./indexeddb-changes.js";
import { deleteDatabases, hasDatabases, installIndexedDB, restoreDatabases, withDatabase, snapshotDatabases } from "./indexeddb.js";

const MAGIC = Buffer.from("BYCS1");
const FLUSH_DELAY_MS = 200;
/** The journal is folded into a whole write once it is larger than this and the store file. */
const JOURNAL_MIN_BYTES = 256 * 1024;

/** The store exists but cannot be used (wrong key, damaged file). */
export class CryptoStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CryptoStoreError";
  }
}

interface FileContent {
  user_id: string;
  device_id: string;
  databases: Buffer;
  /** The journal that continues this file (absent in files written before the journal). */
  journal_id?: Buffer;
}

/** Where the journal stands: appended frames go after `seq` frames and `bytes` bytes. */
interface JournalState {
  id: Buffer;
  seq: number;
  bytes: number;
}

export interface CryptoStoreOptions {
  /** Folder of the store files. */
  dir: string;
  pickleKey: string;
  userId: string;
  deviceId: string;
  log: Logger;
}

/** Removes an account's store file (the account was deleted). */
export async function removeCryptoStore(dir: string, userId: string): Promise<void> {
  const file = cryptoStoreFile(dir, userId);
  await rm(file, { force: true });
  await rm(tempFileOf(file), { force: true });
  await rm(journalFileOf(file), { force: true });
}

/**
 * The key of `<dir>/pickle.key`, created (random, mode 0600) on first use: the stores' key when
 * the config gives no crypto_db_pickle_key.
 */
export function loadOrCreatePickleKey(dir: string): string {
  const file = path.join(dir, PICKLE_KEY_FILE);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(file, randomBytes(32).toString("base64url"), { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  const key = readFileSync(file, "utf8").trim();
  if (!key) throw new CryptoStoreError(`${file} is empty: delete it (the crypto stores become unreadable) or set crypto_db_pickle_key`);
  return key;
}

function deriveKey(pickleKey: string, userId: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync("sha256", pickleKey, userId, `botyard crypto ${purpose}`, 32));
}

export class CryptoStore {
  readonly file: string;
  readonly journalFile: string;
  /** IndexedDB name prefix of this account's device (cryptoDatabasePrefix). */
  readonly prefix: string;
  private readonly fileKey: Buffer;
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private unsubscribe: (() => void) | null = null;
  /** Committed changes not written yet, by database name. */
  private pending = new Map<string, DatabaseChanges>();
  /** null: the next write is a whole one (no journal continues the file as it is on disk). */
  private journal: JournalState | null = null;
  /** The store file's length: the journal is folded in once it is larger. */
  private fileBytes = 0;

  constructor(private readonly options: CryptoStoreOptions) {
    this.file = cryptoStoreFile(options.dir, options.userId);
    this.journalFile = journalFileOf(this.file);
    this.prefix = `botyard:${options.userId}:${options.deviceId}`;
    this.fileKey = deriveKey(options.pickleKey, options.userId, "file");
  }

  /** The key the Rust store encrypts its values with (initRustCrypto's storageKey). */
  storageKey(): Uint8Array {
    return new Uint8Array(deriveKey(this.options.pickleKey, this.options.userId, "store"));
  }

  /**
   * Loads the file into the in-memory IndexedDB (unless this process still has the databases)
   * and starts writing changes back. A file of another device is left to be replaced: a new
   * login is a new device, as in maubot. Resolves true when the device's state was found (in
   * memory or in the file), false when the store starts empty.
   */
  async open(): Promise<boolean> {
    await installIndexedDB();
    let found = await hasDatabases(this.prefix);
    if (!found) {
      const content = await this.readFile();
      if (content && content.device_id !== this.options.deviceId) {
        this.options.log.warn(
          { stored_device: content.device_id, device: this.options.deviceId },
          "the crypto store belongs to another device of this account; starting a new one",
        );
      } else if (content) {
        try {
          await restoreDatabases(content.databases);
          if (content.journal_id) await this.replayJournal(content.journal_id);
        } catch (err) {
          // Nothing half-restored stays in memory for the next attempt to take as the state.
          await deleteDatabases(this.prefix);
          throw err;
        }
        found = true;
      }
    }
    this.unsubscribe = onCommit((name, changes) => {
      if (!name.startsWith(this.prefix)) return;
      const pending = this.pending.get(name);
      if (pending) pending.merge(changes);
      else this.pending.set(name, changes);
      this.scheduleFlush();
    });
    return found;
  }

  /** Writes the changes now (e.g. right after the device keys were created). */
  flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.flushing = this.flushing.then(() => this.write()).catch((err: unknown) => {
      // Whatever was lost from the journal is in the next whole write.
      this.journal = null;
      this.options.log.error({ err: err instanceof Error ? err.message : String(err), file: this.file }, "could not write the crypto store");
    });
    return this.flushing;
  }

  /** Final write and release of the in-memory databases; the crypto machine must be closed. */
  async close(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.flush();
    await deleteDatabases(this.prefix);
  }

  /** Stops writing changes, leaving the file as it is (the crypto could not start). */
  abandon(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => void this.flush(), FLUSH_DELAY_MS);
    this.flushTimer.unref();
  }

  private async readFile(): Promise<FileContent | null> {
    let data: Buffer;
    try {
      data = await readFile(this.file);
      this.fileBytes = data.length;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw new CryptoStoreError(`cannot read the crypto store ${this.file}: ${(err as Error).message}`);
    }
    const lost = `delete ${this.file} and log the account in again (a new device), or restore the file from a backup`;
    if (data.length < MAGIC.length + 28 || !data.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw new CryptoStoreError(`the crypto store ${this.file} is damaged (not a botyard crypto store); ${lost}`);
    }
    const iv = data.subarray(MAGIC.length, MAGIC.length + 12);
    const tag = data.subarray(MAGIC.length + 12, MAGIC.length + 28);
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.fileKey, iv);
      decipher.setAuthTag(tag);
      const plain = Buffer.concat([decipher.update(data.subarray(MAGIC.length + 28)), decipher.final()]);
      const content = deserialize(plain) as FileContent;
      if (typeof content?.device_id !== "string" || !Buffer.isBuffer(content.databases)) throw new Error("bad content");
      return content;
    } catch {
      throw new CryptoStoreError(
        `the crypto store ${this.file} cannot be decrypted: crypto_db_pickle_key changed or the file is damaged; ` +
          `set the previous key, or ${lost}`,
      );
    }
  }

  private async write(): Promise<void> {
    const pending = this.pending;
    this.pending = new Map();
    const schema = [...pending.values()].some((c) => c.schema);
    const journal = this.journal;
    if (!journal || schema || journal.bytes > Math.max(JOURNAL_MIN_BYTES, this.fileBytes)) return this.writeWhole();
    const records: StoreChanges[] = [];
    for (const [name, changes] of pending) records.push(...(await withDatabase(name, (db) => readChanges(db, changes))));
    if (records.length === 0) return;
    journal.bytes += await appendFrame(this.journalFile, this.fileKey, journal.id, journal.seq, serialize(records));
    journal.seq += 1;
  }

  /** Writes the whole store file, then starts its journal. */
  private async writeWhole(): Promise<void> {
    this.journal = null;
    const content: FileContent = {
      user_id: this.options.userId,
      device_id: this.options.deviceId,
      databases: await snapshotDatabases(this.prefix),
      journal_id: newJournalId(),
    };
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.fileKey, iv);
    const body = Buffer.concat([cipher.update(serialize(content)), cipher.final()]);
    await mkdir(this.options.dir, { recursive: true, mode: 0o700 });
    const tmp = tempFileOf(this.file);
    const file = Buffer.concat([MAGIC, iv, cipher.getAuthTag(), body]);
    await writeFile(tmp, file, { mode: 0o600 });
    await rename(tmp, this.file);
    this.fileBytes = file.length;
    const id = content.journal_id as Buffer;
    this.journal = { id, seq: 0, bytes: await startJournal(this.journalFile, id) };
  }

  /** Applies the journal that continues the store file just restored. */
  private async replayJournal(id: Buffer): Promise<void> {
    let read;
    try {
      read = await readJournal(this.journalFile, this.fileKey, id);
    } catch (err) {
      if (!(err instanceof JournalDamagedError)) throw new CryptoStoreError(`cannot read the crypto store journal ${this.journalFile}: ${(err as Error).message}`);
      throw new CryptoStoreError(
        `the crypto store journal ${this.journalFile} cannot be decrypted: crypto_db_pickle_key changed or the file is damaged; ` +
          `set the previous key, or delete ${this.file} and ${this.journalFile} and log the account in again (a new device)`,
      );
    }
    for (const frame of read.frames) {
      const records = deserialize(frame) as StoreChanges[];
      for (const name of new Set(records.map((r) => r.db))) {
        await withDatabase(name, (db) => applyChanges(db, records.filter((r) => r.db === name)));
      }
    }
    if (read.cutShort) this.options.log.warn({ file: this.journalFile }, "the crypto store journal ends in a write cut short; it is left out");
    // The journal goes on only if it ends in a whole frame; otherwise the next write is whole.
    this.journal = read.cutShort || read.bytes === null ? null : { id, seq: read.frames.length, bytes: read.bytes };
  }
}
