// `botyard init --service`: what a systemd unit runs before `botyard start` (ExecStartPre). It
// must be safe to run on every start, and put nothing secret on disk or in the journal:
// - a missing config.yaml is written from config.example.yaml with the secrets read from systemd
//   credentials ({credential: name}) and JSON logs for the journal; an existing one is kept;
// - a missing upload folder (the first start) is created and given the shipped plugin bundles,
//   as `npm start` does on its first run. Later starts leave it alone, so a plugin the operator
//   deleted does not come back.
import { copyFileSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigFile } from "./config-file.js";
import { readExampleConfig } from "./first-run.js";
import { loadConfig } from "./load.js";

/** The credential names the service config reads; the unit's LoadCredential= lines give them. */
export const SERVICE_CREDENTIALS = {
  /** A bcrypt hash (`botyard hash-password`) or a plaintext password of the admin. */
  adminPassword: "admin-password",
  /** server.unshared_secret, which signs admin login tokens: 16 characters or more. */
  serverSecret: "server-secret",
} as const;

/** The admin the service config names. */
export const SERVICE_ADMIN = "root";

/** build/plugins at the package root (packages/host/{src,dist}/config → ../../../../). */
export function shippedPluginsDir(): string {
  return fileURLToPath(new URL("../../../../build/plugins", import.meta.url));
}

export interface ServicePreparation {
  configPath: string;
  /** False when config.yaml existed already (it is not touched). */
  configCreated: boolean;
  /** The bundles copied into the upload folder; empty when it existed already. */
  copiedBundles: string[];
}

/** The service config's text: the example with credential secrets and JSON console logs. */
export function serviceConfigText(target: string, exampleText: string): string {
  const file = ConfigFile.parse(target, exampleText);
  file.setMap(["server", "unshared_secret"], { credential: SERVICE_CREDENTIALS.serverSecret });
  file.setMap(["admins"], { [SERVICE_ADMIN]: { credential: SERVICE_CREDENTIALS.adminPassword } });
  file.set(["logging", "console"], "json");
  file.doc.commentBefore =
    ` Written by \`botyard init --service\` for the systemd unit: the secrets are read from the\n` +
    ` credentials its LoadCredential= lines give (${Object.values(SERVICE_CREDENTIALS).join(", ")}), never\n` +
    ` from this file. Edit the rest freely; restart the service to apply.\n\n${file.doc.commentBefore ?? ""}`;
  return file.toString();
}

export async function prepareServiceConfig(
  target: string,
  options: { examplePath?: string; bundlesDir?: string } = {},
): Promise<ServicePreparation> {
  const configPath = path.resolve(target);
  let configCreated = false;
  if (!existsSync(configPath)) {
    const example = readExampleConfig(options.examplePath);
    mkdirSync(path.dirname(configPath), { recursive: true });
    ConfigFile.parse(configPath, serviceConfigText(configPath, example)).save();
    configCreated = true;
  }
  // The config names the upload folder; reading it checks the config too (and its credentials),
  // so a broken one fails here with the same message `botyard start` would give. Nothing is
  // written back: the daemon does that itself.
  const { config } = await loadConfig(configPath, { rewrite: false });
  const uploadDir = config.plugin_directories.upload;
  const copiedBundles: string[] = [];
  if (!existsSync(uploadDir)) {
    mkdirSync(uploadDir, { recursive: true });
    const bundlesDir = options.bundlesDir ?? shippedPluginsDir();
    const names = existsSync(bundlesDir) ? readdirSync(bundlesDir).filter((n) => n.endsWith(".mbp")).sort() : [];
    for (const name of names) {
      copyFileSync(path.join(bundlesDir, name), path.join(uploadDir, name));
      copiedBundles.push(name);
    }
  }
  return { configPath, configCreated, copiedBundles };
}
