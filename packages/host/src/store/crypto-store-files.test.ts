import path from "node:path";
import { describe, expect, it } from "vitest";
import { cryptoStoreFile, isCryptoStoreFileName, isJournalFileName, journalFileOf, PICKLE_KEY_FILE, tempFileOf } from "./crypto-store-files.js";

describe("the crypto stores' file names", () => {
  it("takes for a backup what the store writes to keep: a store, its journal and the key, not a half-written file", () => {
    const store = path.basename(cryptoStoreFile("/data/crypto", "@bot:example.org"));
    expect(store).toBe("%40bot%3Aexample.org.store");
    expect(isCryptoStoreFileName(store)).toBe(true);
    expect(isCryptoStoreFileName(journalFileOf(store))).toBe(true);
    expect(isJournalFileName(journalFileOf(store))).toBe(true);
    expect(isJournalFileName(store)).toBe(false);
    expect(isCryptoStoreFileName(PICKLE_KEY_FILE)).toBe(true);
    expect(isCryptoStoreFileName(tempFileOf(store))).toBe(false);
  });

  it("refuses names that are not plain file names of the folder", () => {
    for (const name of [".store", ".store.log", "../x.store", "a/b.store", "a\\b.store", "x.db", "pickle.key.log", "x.store.tmp"]) {
      expect(isCryptoStoreFileName(name), name).toBe(false);
    }
  });
});
