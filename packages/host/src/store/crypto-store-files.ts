// The files of the crypto stores' folder (config `encryption.store`), named in one place for the
// store that writes them (matrix/crypto/crypto-store.ts) and the backup that copies them (backup.ts).
import path from "node:path";

/** The generated key of the stores, when the config gives no crypto_db_pickle_key. */
export const PICKLE_KEY_FILE = "pickle.key";
const STORE_SUFFIX = ".store";
const JOURNAL_SUFFIX = ".log";

/** An account's store: `<dir>/<url-encoded user id>.store`. */
export function cryptoStoreFile(dir: string, userId: string): string {
  return path.join(dir, `${encodeURIComponent(userId)}${STORE_SUFFIX}`);
}

/** The journal beside a store file (crypto-store-journal.ts). */
export const journalFileOf = (storeFile: string): string => `${storeFile}${JOURNAL_SUFFIX}`;

/** The file a store is written to before it replaces the store file. */
export const tempFileOf = (storeFile: string): string => `${storeFile}.tmp`;

/** A plain file name (no folder) of a store, a store's journal, or the generated key. */
export function isCryptoStoreFileName(name: string): boolean {
  if (name.includes("/") || name.includes("\\")) return false;
  if (name === PICKLE_KEY_FILE) return true;
  const store = name.endsWith(JOURNAL_SUFFIX) ? name.slice(0, -JOURNAL_SUFFIX.length) : name;
  return store.endsWith(STORE_SUFFIX) && store.length > STORE_SUFFIX.length;
}

/** Whether a name from isCryptoStoreFileName is a journal (copied with its store, not alone). */
export const isJournalFileName = (name: string): boolean => name.endsWith(JOURNAL_SUFFIX);
