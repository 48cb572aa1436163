import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { indexedDB } from "fake-indexeddb";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CryptoStore, CryptoStoreError, loadOrCreatePickleKey, removeCryptoStore } from "./crypto-store.js";
import { cryptoStoreFile } from "../../store/crypto-store-files.js";
import { installIndexedDB } from "./indexeddb.js";

const log = pino({ level: "silent" });
const USER = "@bot:example.org";

function request<T>(r: { onsuccess: (() => void) | null; onerror: (() => void) | null; result: T; error: unknown }): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

/** The part of IDBDatabase used here (the tests compile without the DOM lib). */
interface TestDb {
  transaction(store: string, mode: "readonly" | "readwrite"): {
    objectStore(name: string): { put(value: unknown, key: string): void; get(key: string): Parameters<typeof request>[0] };
    oncomplete: ((value: unknown) => void) | null;
  };
  close(): void;
}

/** Writes one record the way the Rust crypto does: a database named after the store's prefix. */
async function writeRecord(prefix: string, key: string, value: unknown): Promise<void> {
  const open = indexedDB.open(`${prefix}::matrix-sdk-crypto`, 1);
  open.onupgradeneeded = () => {
    const store = open.result.createObjectStore("core");
    store.createIndex("by_value", "v", { unique: false, multiEntry: false });
  };
  const db = await request<TestDb>(open);
  const done = new Promise((resolve) => {
    const tx = db.transaction("core", "readwrite");
    tx.objectStore("core").put(value, key);
    tx.oncomplete = resolve;
  });
  await done;
  db.close();
}

async function readRecord(prefix: string, key: string): Promise<unknown> {
  const db = await request<TestDb>(indexedDB.open(`${prefix}::matrix-sdk-crypto`));
  const value = await request(db.transaction("core", "readonly").objectStore("core").get(key));
  db.close();
  return value;
}

describe("CryptoStore", () => {
  let dir: string;
  beforeEach(async () => {
    await installIndexedDB();
    dir = mkdtempSync(path.join(tmpdir(), "botyard-crypto-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const storeFor = (pickleKey = "key-1", deviceId = "DEVICE1") => new CryptoStore({ dir, pickleKey, userId: USER, deviceId, log });

  it("writes committed changes to an encrypted file and reads them back after close", async () => {
    const store = storeFor();
    expect(await store.open()).toBe(false);
    await writeRecord(store.prefix, "account", { v: "identity keys", bytes: new Uint8Array([1, 2, 3]) });
    await store.close();
    expect((await indexedDB.databases()).filter((d: { name: string }) => d.name.startsWith(store.prefix))).toEqual([]);
    const file = readFileSync(cryptoStoreFile(dir, USER));
    expect(file.includes(Buffer.from("identity keys"))).toBe(false);

    const again = storeFor();
    expect(await again.open()).toBe(true);
    expect(await readRecord(again.prefix, "account")).toEqual({ v: "identity keys", bytes: new Uint8Array([1, 2, 3]) });
    await again.close();
  });

  it("refuses a file it cannot decrypt and says what to do", async () => {
    const store = storeFor();
    await store.open();
    await writeRecord(store.prefix, "account", { v: "x" });
    await store.close();
    const before = readFileSync(cryptoStoreFile(dir, USER));

    const other = storeFor("another-key");
    await expect(other.open()).rejects.toThrow(CryptoStoreError);
    await expect(storeFor("another-key").open()).rejects.toThrow(/crypto_db_pickle_key changed .*delete .*\.store/);
    writeFileSync(cryptoStoreFile(dir, USER), "not a store");
    await expect(storeFor().open()).rejects.toThrow(/damaged/);
    writeFileSync(cryptoStoreFile(dir, USER), before);
    const good = storeFor();
    await good.open();
    expect(await readRecord(good.prefix, "account")).toEqual({ v: "x" });
    await good.close();
  });

  it("starts a new store for a new device of the account", async () => {
    const store = storeFor("key-1", "DEVICE1");
    await store.open();
    await writeRecord(store.prefix, "account", { v: "old device" });
    await store.close();
    const next = storeFor("key-1", "DEVICE2");
    await next.open();
    const dbs = await indexedDB.databases();
    expect(dbs.filter((d: { name: string }) => d.name.startsWith(next.prefix))).toEqual([]);
    await next.close();
  });

  it("removes the store file with the account", async () => {
    const store = storeFor();
    await store.open();
    await writeRecord(store.prefix, "account", { v: "x" });
    await store.close();
    await removeCryptoStore(dir, USER);
    expect(() => readFileSync(cryptoStoreFile(dir, USER))).toThrow(/ENOENT/);
  });

  it("keeps one generated pickle key", () => {
    const key = loadOrCreatePickleKey(dir);
    expect(key.length).toBeGreaterThanOrEqual(32);
    expect(loadOrCreatePickleKey(dir)).toBe(key);
  });
});
