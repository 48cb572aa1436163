// `botyard backup <folder>` and `botyard restore <folder>`: the database paths come from the
// config; restore refuses while a daemon answers on the configured address, since the daemon
// holds the host database open and would go on writing into the file being replaced.
import { connect } from "node:net";
import { loadConfig, type BotyardConfig } from "./config/index.js";
import { backupDatabases, restoreDatabases, type DatabasePaths } from "./store/backup.js";
import { hostVersion } from "./version.js";

async function configuredPaths(configPath: string): Promise<{ config: BotyardConfig; paths: DatabasePaths }> {
  // rewrite: false: a backup or restore never changes the config file.
  const { config } = await loadConfig(configPath, { rewrite: false });
  return { config, paths: { hostDatabase: config.database, instanceFolder: config.plugin_databases.sqlite } };
}

/** True when something accepts connections at host:port within a second. */
function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

export async function backupCommand(configPath: string, folder: string): Promise<string> {
  const { paths } = await configuredPaths(configPath);
  const manifest = backupDatabases(paths, folder, hostVersion());
  const count = Object.keys(manifest.instances).length;
  return `Backed up ${paths.hostDatabase} and ${count} instance database${count === 1 ? "" : "s"} into ${folder}`;
}

export async function restoreCommand(configPath: string, folder: string): Promise<string> {
  const { config, paths } = await configuredPaths(configPath);
  const { hostname, port } = config.server;
  if (port !== 0 && (await listening(hostname, port))) {
    throw new Error(`a botyard daemon is running on ${hostname}:${port}; stop it first, then run restore again`);
  }
  const manifest = restoreDatabases(paths, folder);
  const count = Object.keys(manifest.instances).length;
  return `Restored ${paths.hostDatabase} and ${count} instance database${count === 1 ? "" : "s"} from the backup of ${manifest.created_at}`;
}
