// The parts of the IndexedDB API that the crypto store uses. The host is compiled without the DOM
// lib, so they are declared here (fake-indexeddb implements them).
export type Key = string | number | Date | ArrayBuffer | ArrayBufferView | Key[];

export interface Req<T> {
  result: T;
  error: Error | null;
  onsuccess: (() => void) | null;
  onerror: (() => void) | null;
}
export interface OpenReq extends Req<Db> {
  onupgradeneeded: (() => void) | null;
  onblocked: (() => void) | null;
}
export interface IndexInfo {
  keyPath: string | string[];
  unique: boolean;
  multiEntry: boolean;
}
export interface ObjStore {
  keyPath: string | string[] | null;
  autoIncrement: boolean;
  indexNames: ArrayLike<string>;
  index(name: string): IndexInfo;
  get(key: Key): Req<unknown>;
  getKey(key: Key): Req<Key | undefined>;
  getAll(): Req<unknown[]>;
  getAllKeys(): Req<Key[]>;
  put(value: unknown, key?: Key): Req<Key>;
  delete(key: Key): Req<undefined>;
  clear(): Req<undefined>;
  createIndex(name: string, keyPath: string | string[], options: { unique: boolean; multiEntry: boolean }): void;
}
export interface Tx {
  error: Error | null;
  objectStore(name: string): ObjStore;
  addEventListener(type: "complete" | "abort", listener: () => void): void;
}
export interface Db {
  readonly name: string;
  objectStoreNames: ArrayLike<string>;
  transaction(stores: string | string[], mode?: "readonly" | "readwrite", options?: object): Tx;
  createObjectStore(name: string, options: { keyPath: string | string[] | null; autoIncrement: boolean }): ObjStore;
  close(): void;
}
export interface Factory {
  open(name: string, version?: number): OpenReq;
  deleteDatabase(name: string): OpenReq;
  databases(): Promise<Array<{ name: string; version: number }>>;
}

export const done = <T>(r: Req<T>): Promise<T> =>
  new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error("IndexedDB request failed"));
  });
