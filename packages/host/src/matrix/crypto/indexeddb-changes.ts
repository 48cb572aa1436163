// Which records the committed transactions of the in-memory IndexedDB changed, so that the crypto
// store writes only those (crypto-store-journal.ts) instead of the whole database each time: an
// idle encrypted account rewrites its Olm account record on every /sync, and rewriting every
// store of every account for it was most of the daemon's idle CPU (issue 18).
//
// Marks only need to cover every change (a superset is harmless): the values themselves are read
// back from the committed state when the changes are written (readChanges). Every way a record
// can change through the IndexedDB API is marked: put/add/delete/clear on an object store, and
// update/delete through a cursor. Anything that changes a schema (an upgrade, a deleted
// database) is marked as `schema`, which makes the crypto store write a whole snapshot.
import { serialize } from "node:v8";
import { done, type Db, type Key, type ObjStore, type Req } from "./indexeddb-types.js";

/** What one database's committed transactions changed. */
export class DatabaseChanges {
  /** Object store name → the keys written or deleted (by keyId), or null: the whole store. */
  readonly stores = new Map<string, Map<string, Key> | null>();
  schema = false;

  markKey(store: string, key: Key): void {
    const keys = this.stores.get(store);
    if (keys === null) return;
    if (keys) keys.set(keyId(key), key);
    else this.stores.set(store, new Map([[keyId(key), key]]));
  }

  markStore(store: string): void {
    this.stores.set(store, null);
  }

  merge(other: DatabaseChanges): void {
    this.schema ||= other.schema;
    for (const [store, keys] of other.stores) {
      if (keys === null) this.markStore(store);
      else for (const key of keys.values()) this.markKey(store, key);
    }
  }

  get empty(): boolean {
    return !this.schema && this.stores.size === 0;
  }
}

/** One object store's changed records, as written to the journal and replayed from it. */
export interface StoreChanges {
  db: string;
  store: string;
  /** The store keeps its keys in the values (keyPath): replay puts without a key. */
  inline: boolean;
  /** Clear the store before the puts (it was cleared, or a range of it was deleted). */
  replace: boolean;
  puts: Array<[Key, unknown]>;
  deletes: Key[];
}

const keyId = (key: Key): string =>
  typeof key === "string" ? `s${key}` : typeof key === "number" ? `n${key}` : `b${serialize(key).toString("base64")}`;

type Listener = (databaseName: string, changes: DatabaseChanges) => void;
const listeners = new Set<Listener>();
const pendingOf = new WeakMap<object, DatabaseChanges>();

/** Calls listener(databaseName, changes) after each committed change; returns the unsubscribe function. */
export function onCommit(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function emit(name: string, changes: DatabaseChanges): void {
  for (const listener of listeners) listener(name, changes);
}

function schemaChange(name: string): void {
  const changes = new DatabaseChanges();
  changes.schema = true;
  emit(name, changes);
}

interface StoreLike extends ObjStore {
  name: string;
  transaction: object;
}
interface CursorLike {
  source: StoreLike | { objectStore: StoreLike };
  primaryKey: Key;
}
type Method = (...args: unknown[]) => unknown;

function changesOf(tx: object): DatabaseChanges {
  let changes = pendingOf.get(tx);
  if (!changes) pendingOf.set(tx, (changes = new DatabaseChanges()));
  return changes;
}

function wrap<T extends object>(proto: T, name: string, mark: (self: T, args: unknown[], result: unknown) => void): void {
  const original = (proto as Record<string, Method>)[name];
  (proto as Record<string, Method>)[name] = function (this: T, ...args: unknown[]) {
    const result = original.apply(this, args);
    mark(this, args, result);
    return result;
  };
}

/** The fake-indexeddb classes whose prototypes are wrapped (once, at install). */
export interface IndexedDBClasses {
  IDBFactory: unknown;
  IDBDatabase: unknown;
  IDBObjectStore: unknown;
  IDBCursor: unknown;
  IDBKeyRange: unknown;
}

export function trackChanges(classes: IndexedDBClasses): void {
  const proto = (c: unknown) => (c as { prototype: object }).prototype;
  const KeyRange = classes.IDBKeyRange as abstract new () => object;
  const ObjectStore = classes.IDBObjectStore as abstract new () => StoreLike;

  // put/add: the key is the request's result (an in-line or generated key is known only then).
  for (const method of ["put", "add"]) {
    wrap(proto(classes.IDBObjectStore) as StoreLike, method, (store, _args, request) => {
      const r = request as Req<Key> & { addEventListener(type: "success", listener: () => void): void };
      r.addEventListener("success", () => changesOf(store.transaction).markKey(store.name, r.result));
    });
  }
  wrap(proto(classes.IDBObjectStore) as StoreLike, "delete", (store, [query]) => {
    if (query instanceof KeyRange) changesOf(store.transaction).markStore(store.name);
    else changesOf(store.transaction).markKey(store.name, query as Key);
  });
  wrap(proto(classes.IDBObjectStore) as StoreLike, "clear", (store) => changesOf(store.transaction).markStore(store.name));
  for (const method of ["update", "delete"]) {
    wrap(proto(classes.IDBCursor) as CursorLike, method, (cursor) => {
      const store = cursor.source instanceof ObjectStore ? cursor.source : (cursor.source as { objectStore: StoreLike }).objectStore;
      changesOf(store.transaction).markKey(store.name, cursor.primaryKey);
    });
  }

  wrap(proto(classes.IDBDatabase) as Db, "transaction", (db, [, mode], tx) => {
    if (mode !== "readwrite") return;
    (tx as { addEventListener(type: "complete", listener: () => void): void }).addEventListener("complete", () => {
      const changes = pendingOf.get(tx as object);
      if (changes && !changes.empty) emit(db.name, changes);
    });
  });
  wrap(proto(classes.IDBFactory), "open", (_factory, [name], request) => {
    (request as { addEventListener(type: "upgradeneeded", listener: () => void): void }).addEventListener("upgradeneeded", () =>
      schemaChange(String(name)),
    );
  });
  wrap(proto(classes.IDBFactory), "deleteDatabase", (_factory, [name]) => schemaChange(String(name)));
}

/** The current values of the changed records of one database (a read-only transaction). */
export async function readChanges(db: Db, changes: DatabaseChanges): Promise<StoreChanges[]> {
  const names = [...changes.stores.keys()].filter((n) => Array.from(db.objectStoreNames).includes(n));
  if (names.length === 0) return [];
  const tx = db.transaction(names, "readonly");
  return Promise.all(
    names.map(async (name): Promise<StoreChanges> => {
      const store = tx.objectStore(name);
      const keys = changes.stores.get(name);
      const out: StoreChanges = { db: db.name, store: name, inline: store.keyPath !== null, replace: !keys, puts: [], deletes: [] };
      if (!keys) {
        const [allKeys, values] = await Promise.all([done(store.getAllKeys()), done(store.getAll())]);
        out.puts = allKeys.map((k, n) => [k, values[n]]);
        return out;
      }
      await Promise.all(
        [...keys.values()].map(async (key) => {
          const value = await done(store.get(key));
          // Only getKey tells a deleted record from one whose value is undefined.
          if (value === undefined && (await done(store.getKey(key))) === undefined) out.deletes.push(key);
          else out.puts.push([key, value]);
        }),
      );
      return out;
    }),
  );
}

/** Applies journaled changes to one database (a read-write transaction). */
export async function applyChanges(db: Db, records: StoreChanges[]): Promise<void> {
  const names = [...new Set(records.map((r) => r.store))];
  if (names.length === 0) return;
  const tx = db.transaction(names, "readwrite");
  const committed = new Promise<void>((resolve, reject) => {
    tx.addEventListener("complete", () => resolve());
    tx.addEventListener("abort", () => reject(tx.error ?? new Error(`could not replay the changes of ${db.name}`)));
  });
  for (const r of records) {
    const store = tx.objectStore(r.store);
    if (r.replace) store.clear();
    for (const key of r.deletes) store.delete(key);
    for (const [key, value] of r.puts) {
      if (r.inline) store.put(value);
      else store.put(value, key);
    }
  }
  await committed;
}
