// maubot's trash: a removed bundle is renamed to `{trash}/{unix_time}-{reason}-{basename}`, or
// deleted when the trash is disabled (`trash: delete` in the config, null here).
import { mkdir, rename, rm } from "node:fs/promises";
import { basename, join } from "node:path";

export type TrashReason = "delete" | "update" | "error" | "duplicate" | "failed_update";

export async function trashFile(path: string, reason: TrashReason, trashDir: string | null): Promise<string | null> {
  if (trashDir === null) {
    await rm(path, { force: true });
    return null;
  }
  await mkdir(trashDir, { recursive: true });
  const target = join(trashDir, `${Math.floor(Date.now() / 1000)}-${reason}-${basename(path)}`);
  await rename(path, target);
  return target;
}
