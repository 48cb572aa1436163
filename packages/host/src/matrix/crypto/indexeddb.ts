// The in-memory IndexedDB (fake-indexeddb) that matrix-js-sdk's Rust crypto stores its state in,
// and snapshots of it. Node has no IndexedDB; the Rust crypto's only persistent store is
// IndexedDB (matrix-js-sdk#4769), so each account's databases live in fake-indexeddb (pure JS,
// no native binary) and are written to a file (crypto-store.ts): whole snapshots from here, and
// the records changed in between (indexeddb-changes.ts). Only the public IndexedDB API is used,
// so a fake-indexeddb update cannot break the format.
import { serialize, deserialize } from "node:v8";
import { trackChanges } from "./indexeddb-changes.js";
import { done, type Db, type Factory, type IndexInfo, type Key } from "./indexeddb-types.js";

interface StoreSnapshot {
  name: string;
  keyPath: string | string[] | null;
  autoIncrement: boolean;
  indexes: Array<{ name: string } & IndexInfo>;
  /** Out-of-line keys, in the order of `values`; null when the keys are in the values. */
  keys: Key[] | null;
  values: unknown[];
}
interface DatabaseSnapshot {
  name: string;
  version: number;
  stores: StoreSnapshot[];
}

let factory: Factory | null = null;

/**
 * Installs fake-indexeddb as the global IndexedDB (the Rust crypto looks up `indexedDB` and the
 * IDB* classes globally) and marks what every committed transaction changes (onCommit()).
 */
export async function installIndexedDB(): Promise<void> {
  if (factory) return;
  const fake = await import("fake-indexeddb");
  // What fake-indexeddb/auto does (that entry point has no types): the globals web code expects.
  Object.assign(globalThis, {
    indexedDB: fake.indexedDB,
    IDBCursor: fake.IDBCursor,
    IDBCursorWithValue: fake.IDBCursorWithValue,
    IDBDatabase: fake.IDBDatabase,
    IDBFactory: fake.IDBFactory,
    IDBIndex: fake.IDBIndex,
    IDBKeyRange: fake.IDBKeyRange,
    IDBObjectStore: fake.IDBObjectStore,
    IDBOpenDBRequest: fake.IDBOpenDBRequest,
    IDBRequest: fake.IDBRequest,
    IDBTransaction: fake.IDBTransaction,
    IDBVersionChangeEvent: fake.IDBVersionChangeEvent,
  });
  // Its types refer to the DOM lib, which the host does not compile with; these are the parts used.
  factory = fake.indexedDB as unknown as Factory;
  trackChanges(fake);
}

function requireFactory(): Factory {
  if (!factory) throw new Error("installIndexedDB() was not called");
  return factory;
}

/** Runs body with a connection to an existing database, closed afterwards. */
export async function withDatabase<T>(name: string, body: (db: Db) => Promise<T>): Promise<T> {
  const db = await done(requireFactory().open(name));
  try {
    return await body(db);
  } finally {
    db.close();
  }
}

async function databasesWithPrefix(prefix: string): Promise<Array<{ name: string; version: number }>> {
  return (await requireFactory().databases()).filter((d) => d.name.startsWith(prefix));
}

export async function hasDatabases(prefix: string): Promise<boolean> {
  return (await databasesWithPrefix(prefix)).length > 0;
}

/** All records of the databases whose name starts with prefix, serialized (v8 structured clone). */
export async function snapshotDatabases(prefix: string): Promise<Buffer> {
  const out: DatabaseSnapshot[] = [];
  for (const { name, version } of await databasesWithPrefix(prefix)) {
    const stores = await withDatabase(name, async (db) => {
      const stores: StoreSnapshot[] = [];
      for (const storeName of Array.from(db.objectStoreNames)) {
        const store = db.transaction(storeName, "readonly").objectStore(storeName);
        const indexes = Array.from(store.indexNames).map((n) => {
          const i = store.index(n);
          return { name: n, keyPath: i.keyPath, unique: i.unique, multiEntry: i.multiEntry };
        });
        const keys = done(store.getAllKeys());
        const values = done(store.getAll());
        stores.push({
          name: storeName,
          keyPath: store.keyPath,
          autoIncrement: store.autoIncrement,
          indexes,
          keys: store.keyPath === null ? await keys : null,
          values: await values,
        });
      }
      return stores;
    });
    out.push({ name, version, stores });
  }
  return serialize(out);
}

/** Recreates the databases of a snapshot (which must not exist yet). */
export async function restoreDatabases(snapshot: Buffer): Promise<void> {
  const databases = deserialize(snapshot) as DatabaseSnapshot[];
  if (!Array.isArray(databases)) throw new Error("not a crypto store snapshot");
  for (const d of databases) {
    const request = requireFactory().open(d.name, d.version);
    request.onupgradeneeded = () => {
      const db = request.result;
      for (const s of d.stores) {
        const store = db.createObjectStore(s.name, { keyPath: s.keyPath, autoIncrement: s.autoIncrement });
        for (const i of s.indexes) store.createIndex(i.name, i.keyPath, { unique: i.unique, multiEntry: i.multiEntry });
        s.values.forEach((value, n) => (s.keys ? store.put(value, s.keys[n]) : store.put(value)));
      }
    };
    (await done(request)).close();
  }
}

/** Drops the databases from memory (their connections must be closed). */
export async function deleteDatabases(prefix: string): Promise<void> {
  for (const { name } of await databasesWithPrefix(prefix)) {
    const request = requireFactory().deleteDatabase(name);
    await new Promise<void>((resolve, reject) => {
      request.onsuccess = () => resolve();
      request.onerror = () => reject(request.error ?? new Error(`could not delete ${name}`));
      // Still open somewhere: deletion completes when it closes; do not wait for it.
      request.onblocked = () => resolve();
    });
  }
}
