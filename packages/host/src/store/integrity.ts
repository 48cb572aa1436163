// Is an SQLite file whole? Checked before the daemon opens the host database for writing: a
// damaged file must be refused before the API listens, a bot syncs or anything writes into it.
import { existsSync, rmSync } from "node:fs";
import Database from "better-sqlite3";

/** The host database is damaged; the message names the file and what the operator can do. */
export class DamagedDatabaseError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(
      `the host database ${file} is damaged (${detail}); nothing was written to it. Restore a backup with ` +
        `"botyard restore <backup folder>", or move ${file} (with its -wal and -shm files, if any) away to start with an empty database`,
    );
    this.name = "DamagedDatabaseError";
  }
}

/** The first lines of SQLite's PRAGMA quick_check report, or null when the file is whole. */
export function quickCheckProblems(file: string): string | null {
  // A read-only connection to a WAL database makes -wal and -shm files when there are none (and
  // better-sqlite3 takes no URI, so immutable=1 is not at hand). Files that were not there before
  // belong to no other connection (an open WAL connection always has both), so they are removed
  // again: the check leaves the folder as it found it.
  const made = ["-wal", "-shm"].map((suffix) => file + suffix).filter((f) => !existsSync(f));
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  try {
    const lines = db.pragma("quick_check(5)", { simple: false }) as Array<{ quick_check: string }>;
    const problems = lines.map((l) => l.quick_check).filter((l) => l !== "ok");
    return problems.length ? problems.join("; ").replaceAll("\n", " ").slice(0, 300) : null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    db.close();
    for (const f of made) rmSync(f, { force: true });
  }
}

/** Throws DamagedDatabaseError when `file` exists and is not a whole SQLite database. */
export function assertDatabaseWhole(file: string): void {
  if (!existsSync(file)) return;
  const problems = quickCheckProblems(file);
  if (problems) throw new DamagedDatabaseError(file, problems);
}
