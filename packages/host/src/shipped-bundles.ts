// `npm start` rebuilds the plugins shipped in plugins/* on every start (build/plugins/
// <folder>-v<version>.mbp); this keeps their copies in the upload folder current, so an edited
// plugin runs its new code after a restart. A record in the upload folder says which file each
// shipped plugin put there and what it held: a file the operator replaced, changed or deleted
// (an upload of the same plugin trashes the old file) is never touched again.
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

/** The record's name in the upload folder (the loader reads only *.mbp). */
export const SHIPPED_RECORD = ".shipped-bundles.json";

/** Per plugin folder: the file copied into the upload folder and its sha256. */
type ShippedRecord = Record<string, { file: string; sha256: string }>;

export interface ShippedBundleChange {
  file: string;
  action: "added" | "updated";
  /** The earlier shipped file this one replaced (another version), if any. */
  replaced?: string;
}

/** `echo-v0.1.0.mbp` → `echo` (names from scripts/build-plugins.mjs). */
const BUILT_NAME = /^(.+)-v[0-9][^/]*\.mbp$/;

function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

function readRecord(file: string): ShippedRecord {
  try {
    const data = JSON.parse(readFileSync(file, "utf8")) as unknown;
    if (data === null || typeof data !== "object" || Array.isArray(data)) return {};
    const record: ShippedRecord = {};
    for (const [folder, entry] of Object.entries(data as Record<string, { file?: unknown; sha256?: unknown }>)) {
      if (typeof entry?.file === "string" && typeof entry.sha256 === "string" && !entry.file.includes("/")) {
        record[folder] = { file: entry.file, sha256: entry.sha256 };
      }
    }
    return record;
  } catch {
    return {};
  }
}

/**
 * Copies every built bundle of `buildDir` into `uploadDir` that is new there or newer than the
 * copy made earlier (another version, or the same version with other contents), replacing only
 * files this function put there and nobody changed since. Returns what it changed.
 */
export function syncShippedBundles(buildDir: string, uploadDir: string): ShippedBundleChange[] {
  if (!existsSync(buildDir)) return [];
  const recordFile = path.join(uploadDir, SHIPPED_RECORD);
  const record = readRecord(recordFile);
  mkdirSync(uploadDir, { recursive: true });
  const present = new Set(readdirSync(uploadDir));
  const changes: ShippedBundleChange[] = [];

  for (const name of readdirSync(buildDir).filter((n) => BUILT_NAME.test(n)).sort()) {
    const folder = BUILT_NAME.exec(name)![1]!;
    const built = path.join(buildDir, name);
    const builtSha = sha256(built);
    const earlier = record[folder];
    let replaced: string | undefined;
    if (earlier) {
      const copy = path.join(uploadDir, earlier.file);
      // Gone (deleted, or trashed by an upload of the plugin) or edited: the operator's now.
      if (!present.has(earlier.file) || sha256(copy) !== earlier.sha256) continue;
      if (earlier.file === name && earlier.sha256 === builtSha) continue;
      if (earlier.file !== name) replaced = earlier.file;
    } else {
      // Copied by an older `npm start` that kept no record: named like a build of this folder
      // (uploads are named after the plugin id), so it is the shipped one.
      const legacy = [...present].find((n) => BUILT_NAME.exec(n)?.[1] === folder);
      if (legacy === name && sha256(path.join(uploadDir, name)) === builtSha) {
        record[folder] = { file: name, sha256: builtSha };
        continue;
      }
      replaced = legacy;
    }
    // Through a temporary name, so a daemon never sees half a bundle.
    const tmp = path.join(uploadDir, `.${name}.tmp-${process.pid}`);
    copyFileSync(built, tmp);
    // copyFile keeps the build's 0644; uploads are the user's alone, as the daemon makes them.
    chmodSync(tmp, 0o600);
    renameSync(tmp, path.join(uploadDir, name));
    if (replaced !== undefined && replaced !== name) rmSync(path.join(uploadDir, replaced), { force: true });
    record[folder] = { file: name, sha256: builtSha };
    changes.push({ file: name, action: earlier || replaced ? "updated" : "added", ...(replaced !== undefined && replaced !== name ? { replaced } : {}) });
  }
  writeFileSync(recordFile, `${JSON.stringify(record, null, 2)}\n`);
  return changes;
}
