// The built `botyard` command (dist/main.js) run as a child process, as an operator runs it:
// for tests that kill it, restart it, or run backup/restore beside it.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { HostStore } from "../src/store/index.js";

export const MAIN_JS = fileURLToPath(new URL("../dist/main.js", import.meta.url));
export const DAEMON_SECRET = "daemon-process-secret-0123456789";

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** config.yaml in `dir` for a daemon on `port` with its data in `dir` (no homeserver needed). */
export function writeDaemonConfig(dir: string, port: number): string {
  const file = path.join(dir, "config.yaml");
  writeFileSync(
    file,
    [
      "database: ./data/botyard.db",
      "plugin_directories: {upload: ./data/plugins, load: [./data/plugins], trash: ./data/trash}",
      "plugin_databases: {sqlite: ./data/databases}",
      `server: {port: ${port}, unshared_secret: ${DAEMON_SECRET}}`,
      'admins: {root: ""}',
      "logging: {console: json}",
      "",
    ].join("\n"),
  );
  return file;
}

export const BOT_ID = "@bot:test";

/** The host database at `file` with one disabled bot account, so instances need no homeserver. */
export function seedBotAccount(file: string): void {
  const store = HostStore.open(file);
  store.putClient({
    id: BOT_ID,
    homeserver: "http://127.0.0.1:9",
    access_token: "syt_secret_token",
    device_id: "DEV",
    enabled: false,
    next_batch: "",
    filter_id: "",
    sync: false,
    autojoin: false,
    online: false,
    displayname: "",
    avatar_url: "",
  });
  store.close();
}

/** An API call with the daemon's admin token; the JSON answer parsed. */
export async function daemonApi(d: DaemonProcess, method: string, route: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(d.base + route, {
    method,
    headers: { authorization: `Bearer ${d.token}` },
    body: body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

/** `botyard <args>` to its end (bounded). */
export function runBotyard(args: string[]) {
  return spawnSync(process.execPath, [MAIN_JS, ...args], { encoding: "utf8", timeout: 60_000 });
}

export interface DaemonProcess {
  child: ChildProcess;
  base: string;
  /** An admin token (login with the server secret). */
  token: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
  /** SIGINT and wait for the exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
}

/** Starts `botyard start -c configFile`; resolves when the API answers on `port`. */
export async function startDaemonProcess(configFile: string, port: number): Promise<DaemonProcess> {
  const child = spawn(process.execPath, [MAIN_JS, "start", "-c", configFile], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (output += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (output += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const base = `http://127.0.0.1:${port}/_matrix/maubot/v1`;
  const deadline = Date.now() + 30_000;
  while (!output.includes("botyard running on")) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`the daemon did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const login = await fetch(`${base}/auth/login`, { method: "POST", body: JSON.stringify({ secret: DAEMON_SECRET, user: "root" }) });
  const { token } = (await login.json()) as { token: string };
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.kill("SIGINT");
    await exited;
    clearTimeout(timer);
  };
  return { child, base, token, exited, output: () => output, stop };
}
