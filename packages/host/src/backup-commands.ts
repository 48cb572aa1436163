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
  return { config, paths: { hostDatabase: config.database, instanceFolder: config.plugin_databases.sqlite } };
}

export async function backupCommand(configPath: string, folder: string): Promise<string> {
  const { paths } = await configuredPaths(configPath);
  const manifest = backupDatabases(paths, folder, hostVersion());
  const count = Object.keys(manifest.instances).length;
  return `Backed up ${paths.hostDatabase} and ${count} instance database${count === 1 ? "" : "s"} into ${folder}`;
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
  return `Restored ${paths.hostDatabase} and ${count} instance database${count === 1 ? "" : "s"} from the backup of ${manifest.created_at}`;
}
