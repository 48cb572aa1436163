// `botyard backup <folder>` and `botyard restore <folder>`: the database paths come from the
// config. Restore refuses while a daemon runs on the data folder (its lock) or the configured
// port, since the daemon holds the host database open and would go on writing into the file
// being replaced; it holds the data folder's lock itself meanwhile, so no daemon starts halfway.
import path from "node:path";
import { loadConfig, type BotyardConfig } from "./config/index.js";
import { assertPortFree, takeDataLock } from "./startup-guard.js";
import { backupDatabases, restoreDatabases, type BackupManifest, type DatabasePaths } from "./store/backup.js";
import { hostVersion } from "./version.js";

async function configuredPaths(configPath: string): Promise<{ config: BotyardConfig; paths: DatabasePaths }> {
  // rewrite: false: a backup or restore never changes the config file.
  const { config } = await loadConfig(configPath, { rewrite: false });
  return { config, paths: { hostDatabase: config.database, instanceFolder: config.plugin_databases.sqlite, cryptoFolder: config.encryption.store } };
}

/** " and N crypto store files", or nothing when there are none. */
function cryptoPart(manifest: BackupManifest): string {
  const files = Object.keys(manifest.crypto ?? {}).length;
  return files ? ` and ${files} crypto store file${files === 1 ? "" : "s"}` : "";
}

export async function backupCommand(configPath: string, folder: string): Promise<string> {
  const { paths } = await configuredPaths(configPath);
  const manifest = backupDatabases(paths, folder, hostVersion());
  const count = Object.keys(manifest.instances).length;
  return `Backed up ${paths.hostDatabase}, ${count} instance database${count === 1 ? "" : "s"}${cryptoPart(manifest)} into ${folder}`;
}

export async function restoreCommand(configPath: string, folder: string): Promise<string> {
  const { config, paths } = await configuredPaths(configPath);
  const lock = takeDataLock(path.dirname(paths.hostDatabase));
  let manifest: BackupManifest;
  try {
    await assertPortFree(config.server.hostname, config.server.port, configPath);
    manifest = restoreDatabases(paths, folder);
  } finally {
    lock.release();
  }
  const count = Object.keys(manifest.instances).length;
  return `Restored ${paths.hostDatabase}, ${count} instance database${count === 1 ? "" : "s"}${cryptoPart(manifest)} from the backup of ${manifest.created_at}`;
}
