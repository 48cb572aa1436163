// Helpers for the e2e tests that run a whole daemon: a temporary folder with a config.yaml,
// the Daemon started in-process on it, bot accounts added the way POST /client/new adds them,
// plugin bundles from build/plugins, and free loopback ports.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import type { Daemon, DaemonOptions } from "../../packages/host/src/daemon.js";
import type { ClientRow, InstanceRow } from "../../packages/host/src/store/types.js";
import { waitFor } from "./synapse.js";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * The .mbp of plugins/<folder> at its manifest's version, built with the repository's own script
 * when it is missing (the name scripts/build-plugins.mjs gives it: <folder>-v<version>.mbp).
 */
export function pluginBundle(folder: string): Buffer {
  const manifest = parseYaml(readFileSync(path.join(REPO_ROOT, "plugins", folder, "maubot.yaml"), "utf8")) as { version: string };
  const file = path.join(REPO_ROOT, "build/plugins", `${folder}-v${manifest.version}.mbp`);
  if (!existsSync(file)) execFileSync(process.execPath, [path.join(REPO_ROOT, "scripts/build-plugins.mjs"), folder], { stdio: "inherit" });
  if (!existsSync(file)) throw new Error(`${file} could not be built`);
  return readFileSync(file);
}

/** A TCP port free on 127.0.0.1 right now (for a daemon whose public_url must name its port). */
export { freePort } from "../../packages/host/test-support/daemon-process.js";

export interface DaemonConfig {
  /** The host database, relative to the config's folder. */
  database: string;
  /** The API's port on 127.0.0.1: 0 for any free one, or a port that public_url then names. */
  port: number;
  /** server.unshared_secret ("generate" lets the daemon write one). */
  secret: string;
  /** Admin name → password. */
  admins: Record<string, string>;
  /** Homeservers the API may create bot accounts on: name → URL and registration shared secret. */
  homeservers?: Record<string, { url: string; secret: string }>;
  logging: { level?: string; console: "off" | "json" | "pretty"; file?: string };
  /** The room ERROR records are posted to, and the bot account that posts them. */
  adminRoom?: { roomId: string; client: string };
  /** Further top-level lines (admin_room, metrics, crypto_db_pickle_key, ...). */
  extra?: string[];
}

/** The lines of a daemon's config.yaml, as the e2e tests write it; values are quoted as JSON (YAML reads them alike). */
export function daemonConfigLines(config: DaemonConfig): string[] {
  const q = (value: string) => JSON.stringify(value);
  return [
    `database: ${q(config.database)}`,
    "server:",
    "  hostname: 127.0.0.1",
    `  port: ${config.port}`,
    ...(config.port === 0 ? [] : [`  public_url: http://127.0.0.1:${config.port}`]),
    `  unshared_secret: ${q(config.secret)}`,
    ...(config.homeservers
      ? ["homeservers:", ...Object.entries(config.homeservers).flatMap(([name, hs]) => [`  ${name}:`, `    url: ${q(hs.url)}`, `    secret: ${q(hs.secret)}`])]
      : []),
    "admins:",
    ...Object.entries(config.admins).map(([name, password]) => `  ${name}: ${q(password)}`),
    "logging:",
    ...(config.logging.level ? [`  level: ${config.logging.level}`] : []),
    `  console: ${config.logging.console}`,
    ...(config.logging.file ? [`  file: ${q(config.logging.file)}`] : []),
    ...(config.adminRoom ? ["admin_room:", `  room_id: ${q(config.adminRoom.roomId)}`, `  client: ${q(config.adminRoom.client)}`] : []),
    ...(config.extra ?? []),
  ];
}

export interface TempConfig {
  /** The temporary folder; the caller removes it. */
  dir: string;
  /** Its config.yaml. */
  configPath: string;
}

/** A fresh temporary folder (`prefix` names it) holding config.yaml made of `lines`. */
export function writeTempConfig(prefix: string, lines: string[]): TempConfig {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const configPath = path.join(dir, "config.yaml");
  writeFileSync(configPath, [...lines, ""].join("\n"));
  return { dir, configPath };
}

/**
 * writeTempConfig, then the Daemon started in-process on that config (with `options`). The caller
 * stops the daemon and removes `dir`; if the start fails, the folder is removed here.
 */
export async function startTempDaemon(
  prefix: string,
  configLines: string[],
  options: Omit<DaemonOptions, "configPath"> = {},
): Promise<TempConfig & { daemon: Daemon }> {
  // Loaded here, not at the top: tests that run the built daemon as a child need none of it.
  const { Daemon } = await import("../../packages/host/src/daemon.js");
  const temp = writeTempConfig(prefix, configLines);
  const daemon = new Daemon({ ...options, configPath: temp.configPath });
  try {
    await daemon.start();
  } catch (err) {
    await daemon.stop().catch(() => undefined);
    rmSync(temp.dir, { recursive: true, force: true });
    throw err;
  }
  return { ...temp, daemon };
}

/** What POST /client/new does: store the row, start the client. Resolves whether it synced in time. */
export async function addClient(daemon: Daemon, row: ClientRow, timeoutMs = 30_000): Promise<boolean> {
  daemon.store.putClient(row);
  await daemon.clients.start(row);
  return daemon.clients.whenReady(row.id, timeoutMs);
}

/** An enabled echo instance row on the bot `primaryUser`, with `config` as its YAML. */
export function echoInstance(id: string, primaryUser: string, config = ""): InstanceRow {
  return {
    id,
    type: "org.botyard.echo",
    enabled: true,
    primary_user: primaryUser,
    config,
    database_engine: "sqlite",
    isolated: false,
    state: "stopped",
    last_error: null,
  };
}

/** Installs the echo bundle and runs an echo instance `id` on `primaryUser`; resolves once it runs. */
export async function runEchoInstance(daemon: Daemon, id: string, primaryUser: string): Promise<void> {
  await daemon.registry.install(pluginBundle("echo"), { allowOverride: true });
  await daemon.supervisor.create(echoInstance(id, primaryUser));
  await waitFor(() => daemon.supervisor.status(id).state === "running", 30_000, `${id} to run`);
}
