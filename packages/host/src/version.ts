// The host's version (package.json), for the start line, GET /version, bundle checks and --version.
// A module of its own so the `botyard` command can print it without loading the daemon.
import { readFileSync } from "node:fs";

export function hostVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}
