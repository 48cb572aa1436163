// First start: a config.yaml made from config.example.yaml, with a generated unshared secret
// and a generated admin password that the caller prints once (only its hash is stored).
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigFile } from "./config-file.js";
import { hashPassword, randomSecret } from "./passwords.js";
import { ConfigError } from "./types.js";

/** config.example.yaml at the repository root (packages/host/{src,dist}/config → ../../../../). */
export function defaultExamplePath(): string {
  return fileURLToPath(new URL("../../../../config.example.yaml", import.meta.url));
}

/** config.example.yaml's text, the start of every config botyard writes. */
export function readExampleConfig(examplePath = defaultExamplePath()): string {
  try {
    return readFileSync(examplePath, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read the example config ${examplePath} (${(err as NodeJS.ErrnoException).code})`);
  }
}

export interface FirstRunResult {
  path: string;
  adminName: string;
  /** Shown to the operator once; the file holds only its bcrypt hash. */
  adminPassword: string;
}

export async function createFirstRunConfig(
  target: string,
  options: { examplePath?: string; adminName?: string } = {},
): Promise<FirstRunResult> {
  const absolute = path.resolve(target);
  if (existsSync(absolute)) throw new ConfigError(`${absolute} exists already; not overwriting it`);
  const file = ConfigFile.parse(absolute, readExampleConfig(options.examplePath));
  const adminName = options.adminName ?? "root";
  const adminPassword = randomSecret(18);
  file.set(["server", "unshared_secret"], randomSecret());
  file.set(["admins", adminName], await hashPassword(adminPassword));
  // The folder holds the secret and, by default, the data: private to the user.
  mkdirSync(path.dirname(absolute), { recursive: true, mode: 0o700 });
  file.save();
  return { path: absolute, adminName, adminPassword };
}
