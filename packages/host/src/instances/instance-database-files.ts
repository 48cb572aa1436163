// An instance's SQLite database in the databases folder (config `plugin_databases.sqlite`):
// `<id>.db`, and the -wal and -shm files SQLite keeps beside it. The one module that knows this
// layout; the supervisor, the database console and the maubot import all ask it.
import { rename, rm } from "node:fs/promises";
import { join } from "node:path";

/** The database file and the files SQLite's WAL mode keeps beside it. */
const SUFFIXES = ["", "-wal", "-shm"] as const;

/**
 * A file that is not there: missing, or named by an id too long for a file name (older versions
 * accepted such ids; no file could ever have been made for one).
 */
function isAbsent(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENAMETOOLONG";
}

export class InstanceDatabaseFiles {
  constructor(readonly dir: string) {}

  /** The instance's database file (it exists once the instance has run). */
  pathOf(instanceId: string): string {
    return join(this.dir, `${instanceId}.db`);
  }

  /** Moves the files of `oldId` to `newId`; files that are not there are skipped. */
  async rename(oldId: string, newId: string): Promise<void> {
    for (const suffix of SUFFIXES) {
      try {
        await rename(`${this.pathOf(oldId)}${suffix}`, `${this.pathOf(newId)}${suffix}`);
      } catch (err) {
        if (!isAbsent(err)) throw err;
      }
    }
  }

  /** Deletes the instance's files; files that are not there are skipped. */
  async remove(instanceId: string): Promise<void> {
    for (const suffix of SUFFIXES) {
      try {
        await rm(`${this.pathOf(instanceId)}${suffix}`, { force: true });
      } catch (err) {
        if (!isAbsent(err)) throw err;
      }
    }
  }
}
