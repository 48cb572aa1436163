// The maubot 0.5.2 data folder of ../shared/fixtures (read-only there, and SQLite writes -wal/-shm
// beside a database it opens): tests work on a writable copy, never on the fixture itself.
import { chmodSync, cpSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const MAUBOT_FIXTURE = fileURLToPath(new URL("../../../shared/fixtures/maubot-0.5.2/", import.meta.url));

function makeWritable(folder: string): void {
  chmodSync(folder, 0o755);
  for (const name of readdirSync(folder)) {
    const p = path.join(folder, name);
    if (statSync(p).isDirectory()) makeWritable(p);
    else chmodSync(p, 0o644);
  }
}

/** Copies the fixture to `target` (created) and makes the copy writable; returns `target`. */
export function copyMaubotFixture(target: string): string {
  cpSync(MAUBOT_FIXTURE, target, { recursive: true });
  makeWritable(target);
  return target;
}
