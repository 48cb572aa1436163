// The crypto store's journal: changes after a whole write are appended, not rewritten, and a
// restart restores exactly what was in memory (every way a record can change), including after a
// write cut short.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { indexedDB, IDBKeyRange } from "fake-indexeddb";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { newJournalId, readJournal, startJournal, appendFrame } from "./crypto-store-journal.js";
import { cryptoStoreFile } from "../../store/crypto-store-files.js";
import { CryptoStore, CryptoStoreError } from "./crypto-store.js";
import { installIndexedDB, snapshotDatabases } from "./indexeddb.js";
import { done, type Db, type OpenReq } from "./indexeddb-types.js";

const USER = "@bot:example.org";
const lines: string[] = [];
const log = pino({ level: "warn" }, { write: (line: string) => void lines.push(line) });

type Cursor = { value: unknown; primaryKey: unknown; update(v: unknown): unknown; delete(): unknown; continue(): void } | null;
type CursorStore = { openCursor(): { onsuccess: (() => void) | null; result: Cursor } };

/** The Rust crypto's kinds of store: out-of-line keys, in-line keys, generated keys, an index. */
async function openTestDb(prefix: string): Promise<Db> {
  const request = indexedDB.open(`${prefix}::matrix-sdk-crypto`, 1) as unknown as OpenReq;
  request.onupgradeneeded = () => {
    const db = request.result;
    db.createObjectStore("core", { keyPath: null, autoIncrement: false });
    const sessions = db.createObjectStore("sessions", { keyPath: "id", autoIncrement: false });
    sessions.createIndex("by_room", "room", { unique: false, multiEntry: false });
    db.createObjectStore("queue", { keyPath: null, autoIncrement: true });
  };
  return done(request);
}

/** Runs body in one read-write transaction and waits for it to commit. */
async function inTx(db: Db, stores: string[], body: (tx: ReturnType<Db["transaction"]>) => void): Promise<void> {
  const tx = db.transaction(stores, "readwrite");
  const committed = new Promise<void>((resolve, reject) => {
    tx.addEventListener("complete", resolve);
    tx.addEventListener("abort", () => reject(tx.error));
  });
  body(tx);
  await committed;
}

/** Visits every record of a store with a cursor: update the even numbers, delete the others. */
async function cursorPass(db: Db): Promise<void> {
  await inTx(db, ["sessions"], (tx) => {
    const request = (tx.objectStore("sessions") as unknown as CursorStore).openCursor();
    request.onsuccess = () => {
      const cursor = request.result;
      if (!cursor) return;
      const value = cursor.value as { id: string; n: number };
      if (value.n % 2 === 0) cursor.update({ ...value, n: value.n * 10 });
      else cursor.delete();
      cursor.continue();
    };
  });
}

describe("CryptoStore journal", () => {
  let dir: string;
  beforeEach(async () => {
    await installIndexedDB();
    dir = mkdtempSync(path.join(tmpdir(), "botyard-journal-"));
    lines.length = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const storeFor = (pickleKey = "key-1") => new CryptoStore({ dir, pickleKey, userId: USER, deviceId: "DEVICE1", log });

  /** A closed store whose record "k" took each of values in turn, written after each one. */
  async function storeWithVersions(values: string[]): Promise<CryptoStore> {
    const store = storeFor();
    await store.open();
    const db = await openTestDb(store.prefix);
    for (const value of values) {
      await inTx(db, ["core"], (tx) => tx.objectStore("core").put(value, "k"));
      await store.flush();
    }
    db.close();
    await store.close();
    return store;
  }

  it("appends later changes to the journal instead of rewriting the store file", async () => {
    const store = storeFor();
    await store.open();
    const db = await openTestDb(store.prefix);
    await inTx(db, ["core"], (tx) => tx.objectStore("core").put({ secret: "first" }, "account"));
    await store.flush();
    const whole = statSync(store.file);
    const journalBefore = statSync(store.journalFile).size;

    await inTx(db, ["core"], (tx) => tx.objectStore("core").put({ secret: "second" }, "account"));
    await store.flush();
    expect(statSync(store.file).mtimeMs).toBe(whole.mtimeMs);
    expect(statSync(store.file).size).toBe(whole.size);
    expect(statSync(store.journalFile).size).toBeGreaterThan(journalBefore);
    expect(readFileSync(store.journalFile).includes(Buffer.from("second"))).toBe(false);
    // A transaction that writes nothing writes nothing.
    const size = statSync(store.journalFile).size;
    await inTx(db, ["core"], (tx) => void tx.objectStore("core").get("account"));
    await store.flush();
    expect(statSync(store.journalFile).size).toBe(size);
    db.close();
    await store.close();

    const again = storeFor();
    expect(await again.open()).toBe(true);
    const reopened = await done(indexedDB.open(`${again.prefix}::matrix-sdk-crypto`) as unknown as OpenReq);
    expect(await done(reopened.transaction("core", "readonly").objectStore("core").get("account"))).toEqual({ secret: "second" });
    reopened.close();
    await again.close();
  });

  it("restores exactly what was in memory, whatever changed the records", async () => {
    const store = storeFor();
    await store.open();
    const db = await openTestDb(store.prefix);
    await inTx(db, ["core", "sessions", "queue"], (tx) => {
      for (let n = 0; n < 6; n++) tx.objectStore("sessions").put({ id: `s${n}`, room: n % 2 ? "!a" : "!b", n, key: new Uint8Array([n]) });
      tx.objectStore("core").put("keep", "a");
      tx.objectStore("core").put("drop", "b");
      tx.objectStore("core").put(undefined, "undefined value");
      tx.objectStore("core").put(1, ["compound", 2]);
      tx.objectStore("queue").put({ job: 1 });
      tx.objectStore("queue").put({ job: 2 });
    });
    await store.flush();
    await inTx(db, ["core", "queue"], (tx) => {
      tx.objectStore("core").delete("b");
      tx.objectStore("queue").put({ job: 3 });
    });
    await cursorPass(db);
    await inTx(db, ["core"], (tx) => (tx.objectStore("core") as unknown as { delete(r: unknown): void }).delete(IDBKeyRange.bound("a", "a")));
    await inTx(db, ["queue"], (tx) => {
      tx.objectStore("queue").clear();
      tx.objectStore("queue").put({ job: 4 });
    });
    const expected = await snapshotDatabases(store.prefix);
    db.close();
    await store.close();
    expect(statSync(store.journalFile).size).toBeGreaterThan(21);

    const again = storeFor();
    await again.open();
    expect(await snapshotDatabases(again.prefix)).toEqual(expected);
    await again.close();
  });

  it("leaves out a frame cut short, and starts the next write whole", async () => {
    const store = await storeWithVersions(["v1", "v2", "v3"]);
    truncateSync(store.journalFile, statSync(store.journalFile).size - 3);

    const again = storeFor();
    await again.open();
    expect(lines.some((l) => l.includes("cut short"))).toBe(true);
    const reopened = await done(indexedDB.open(`${again.prefix}::matrix-sdk-crypto`) as unknown as OpenReq);
    expect(await done(reopened.transaction("core", "readonly").objectStore("core").get("k"))).toBe("v2");
    const before = statSync(again.file).mtimeMs;
    await inTx(reopened, ["core"], (tx) => tx.objectStore("core").put("v4", "k"));
    reopened.close();
    await again.flush();
    expect(statSync(again.file).mtimeMs).toBeGreaterThan(before);
    await again.close();
  });

  it("refuses a journal it cannot decrypt and says what to do", async () => {
    const store = await storeWithVersions(["v1", "v2"]);
    const journal = readFileSync(store.journalFile);
    journal[journal.length - 1] ^= 1;
    writeFileSync(store.journalFile, journal);
    await expect(storeFor().open()).rejects.toThrow(CryptoStoreError);
    await expect(storeFor().open()).rejects.toThrow(/journal .*cannot be decrypted.*delete .*\.store and .*\.store\.log/);
  });
});

describe("journal file", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), "botyard-journal-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("ignores a journal of another id (from before the last whole write) and a missing one", async () => {
    const file = path.join(dir, "x.store.log");
    const key = Buffer.alloc(32, 7);
    expect(await readJournal(file, key, newJournalId())).toEqual({ frames: [], cutShort: false, bytes: null });
    const id = newJournalId();
    await startJournal(file, id);
    await appendFrame(file, key, id, 0, Buffer.from("one"));
    await appendFrame(file, key, id, 1, Buffer.from("two"));
    const read = await readJournal(file, key, id);
    expect(read.frames.map(String)).toEqual(["one", "two"]);
    expect(read.bytes).toBe(statSync(file).size);
    expect((await readJournal(file, key, newJournalId())).frames).toEqual([]);
  });

  it("refuses frames out of order", async () => {
    const file = path.join(dir, "x.store.log");
    const key = Buffer.alloc(32, 7);
    const id = newJournalId();
    await startJournal(file, id);
    const other = path.join(dir, "other.log");
    await startJournal(other, id);
    await appendFrame(other, key, id, 1, Buffer.from("second first"));
    appendFileSync(file, readFileSync(other).subarray(21));
    await expect(readJournal(file, key, id)).rejects.toThrow(/frame 0 .* fails its check/);
  });

  it("names the store file it belongs to", () => {
    expect(cryptoStoreFile(dir, USER)).toBe(path.join(dir, "%40bot%3Aexample.org.store"));
  });
});
