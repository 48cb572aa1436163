// Helpers for the e2e tests that run a whole daemon: a temporary folder with a config.yaml,
// the Daemon started in-process on it, bot accounts added the way POST /client/new adds them,
// plugin bundles from build/plugins, and free loopback ports.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import type { Daemon } from "../../packages/host/src/daemon.js";
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
 * writeTempConfig, then the Daemon started in-process on that config. The caller stops the
 * daemon and removes `dir`; if the start fails, the folder is removed here.
 */
export async function startTempDaemon(prefix: string, configLines: string[]): Promise<TempConfig & { daemon: Daemon }> {
  // Loaded here, not at the top: tests that run the built daemon as a child need none of it.
  const { Daemon } = await import("../../packages/host/src/daemon.js");
  const temp = writeTempConfig(prefix, configLines);
  const daemon = new Daemon({ configPath: temp.configPath });
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
