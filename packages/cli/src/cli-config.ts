// Where botyard-cli keeps its logins: the shape of mbc's maubot-cli.json
// (`{servers: {url: token}, aliases: {alias: url}, default_server}`), in
// $XDG_CONFIG_HOME/botyard-cli.json (default ~/.config/botyard-cli.json), readable only by its owner.

import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export interface CliConfig {
  servers: Record<string, string>;
  aliases: Record<string, string>;
  default_server: string | null;
}

export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env["BOTYARD_CLI_CONFIG"]) return env["BOTYARD_CLI_CONFIG"];
  const base = env["XDG_CONFIG_HOME"] || join(homedir(), ".config");
  return join(base, "botyard-cli.json");
}

export class CliConfigFile {
  readonly path: string;

  constructor(path: string = defaultConfigPath()) {
    this.path = path;
  }

  read(): CliConfig {
    if (!existsSync(this.path)) return { servers: {}, aliases: {}, default_server: null };
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(this.path, "utf8"));
    } catch (err) {
      throw new Error(`${this.path} is not valid JSON: ${(err as Error).message}`);
    }
    const obj = (raw ?? {}) as Partial<CliConfig>;
    return { servers: { ...obj.servers }, aliases: { ...obj.aliases }, default_server: obj.default_server ?? null };
  }

  write(config: CliConfig): void {
    mkdirSync(dirname(this.path), { recursive: true });
    writeFileSync(this.path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    chmodSync(this.path, 0o600);
  }

  /** Stores a token; the first server logged into becomes the default. */
  saveLogin(server: string, token: string, alias?: string): void {
    const config = this.read();
    config.servers[server] = token;
    if (alias) config.aliases[alias] = server;
    config.default_server ??= server;
    this.write(config);
  }

  /** The server URL and token for `--server` (a URL or an alias), or the default server. */
  resolve(serverOrAlias: string | undefined): { server: string; token: string } {
    const config = this.read();
    const wanted = serverOrAlias ? (config.aliases[serverOrAlias] ?? normalizeServer(serverOrAlias)) : config.default_server;
    if (!wanted) throw new Error("no server given and no default server: run `botyard-cli login` first");
    const token = config.servers[wanted];
    if (!token) throw new Error(`not logged in to ${wanted}: run \`botyard-cli login -s ${wanted}\``);
    return { server: wanted, token };
  }
}

/** `http://host:port` without a trailing slash or path, as mbc stores it. */
export function normalizeServer(server: string): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new Error(`${server} is not a URL (e.g. http://localhost:29316)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`${server} is not an http(s) URL`);
  return url.origin;
}
