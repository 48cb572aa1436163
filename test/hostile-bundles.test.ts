// The hostile-bundle corpus (test/hostile/bundles.ts) uploaded to a real daemon, the built
// `botyard start -c config.yaml` as a child process. For every case: the upload is refused with
// its errcode and nothing changes (plugins, files in the plugins folder), or, for valid bundles
// with harmful top-level code, it is accepted and the code never runs (no marker file, no child
// process, no memory taken); /health answers while the upload is handled and after; no file
// appears outside the data folder; the daemon's pid is unchanged.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, freePort, writeTempConfig, daemonConfigLines } from "./support/daemon.js";
import { waitFor } from "./support/synapse.js";
import { hostileCorpus } from "./hostile/bundles.js";

const mainJs = path.join(REPO_ROOT, "packages/host/dist/main.js");

/** Resident memory of a process, from /proc. */
function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
  return Number(/(\d+)/.exec(line ?? "")?.[1] ?? 0) * 1024;
}

/** Processes whose parent is `pid`, from /proc. */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const name of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      // Field 4 of /proc/<pid>/stat, after the command name in parentheses.
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) children.push(Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  return children;
}

describe("hostile bundles against a running daemon", () => {
  let dataDir: string;
  let daemon: ChildProcess;
  let pid: number;
  let base: string;
  let token: string;
  let output = "";
  const password = `hostile-${Math.random().toString(36).slice(2)}`;
  // The folder the hostile code writes its markers (and stolen files) to: outside the data folder.
  const outside = mkdtempSync(path.join(tmpdir(), "botyard-outside-"));
  const corpus = hostileCorpus(outside);
  const bodies = new Map<string, Buffer>();

  const api = (p: string, init: RequestInit = {}) =>
    fetch(`${base}/_matrix/maubot/v1${p}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
  const health = () => fetch(`${base}/_matrix/maubot/v1/health`).then((r) => r.status);
  const pluginIds = async () => ((await (await api("/plugins")).json()) as Array<{ id: string; version: string }>).map((p) => `${p.id}@${p.version}`).sort();
  const pluginFiles = () => readdirSync(path.join(dataDir, "plugins")).sort();

  beforeAll(async () => {
    if (!existsSync(mainJs)) throw new Error(`${mainJs} is missing; run npm run build first`);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    ({ dir: dataDir } = writeTempConfig(
      "botyard-hostile-",
      daemonConfigLines({ database: "./botyard.db", port, secret: "generate", admins: { admin: password }, logging: { console: "json" } }),
    ));
    daemon = spawn(process.execPath, [mainJs, "start", "-c", path.join(dataDir, "config.yaml")], { cwd: dataDir, stdio: ["ignore", "pipe", "pipe"] });
    pid = daemon.pid!;
    daemon.stdout!.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
    daemon.stderr!.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
    // Built while the daemon starts (generating the big ones blocks this process for seconds),
    // and before any request: a connection kept alive across that block could be stale.
    for (const c of corpus) bodies.set(c.name, c.bundle());
    await waitFor(
      async () => {
        if (daemon.exitCode !== null) throw new Error(`daemon exited: ${output}`);
        return (await health().catch(() => 0)) === 200;
      },
      90_000,
      "the daemon to answer",
    );
    const login = await fetch(`${base}/_matrix/maubot/v1/auth/login`, { method: "POST", body: JSON.stringify({ username: "admin", password }) });
    token = ((await login.json()) as { token: string }).token;
    // Something stored that a hostile upload must not lose.
    const echo = await api("/plugins/upload", { method: "POST", body: readFileSync(path.join(REPO_ROOT, "build/plugins/echo-v0.1.0.mbp")) });
    expect(echo.status, output).toBe(201);
  });

  afterAll(async () => {
    if (daemon && daemon.exitCode === null && daemon.signalCode === null) {
      daemon.kill("SIGTERM");
      await waitFor(() => daemon.exitCode !== null || daemon.signalCode !== null, 10_000, "the daemon to stop").catch(() => daemon.kill("SIGKILL"));
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  for (const c of corpus) {
    const verdict = "refused" in c.expect ? `refused with ${c.expect.refused}` : "accepted, and its code never runs";
    it(`${c.name}: ${verdict}`, async () => {
      const plugins = await pluginIds();
      const files = pluginFiles();
      const rss = rssBytes(pid);
      const order: string[] = [];

      const upload = api("/plugins/upload", { method: "POST", body: bodies.get(c.name), headers: { "content-type": "application/zip" } }).then(async (res) => {
        order.push("upload");
        return { status: res.status, body: (await res.json()) as { errcode?: string; error?: string; id?: string } };
      });
      // Sent once the upload is on its way; a blocked event loop would answer it only afterwards.
      const during = health().then((status) => {
        order.push("health");
        return status;
      });
      const [answer, healthStatus] = await Promise.all([upload, during]);
      expect(healthStatus).toBe(200);

      if ("refused" in c.expect) {
        expect(answer.body.errcode, JSON.stringify(answer.body)).toBe(c.expect.refused);
        expect(answer.body.error).toMatch(c.expect.message);
        expect(answer.status).toBeGreaterThanOrEqual(400);
        expect(answer.status).toBeLessThan(500);
        expect(await pluginIds()).toEqual(plugins);
        expect(pluginFiles()).toEqual(files);
        // The slowest refusal (a schema check stopped at its time limit) must not hold up the API.
        if (/took longer/.test(String(c.expect.message))) expect(order).toEqual(["health", "upload"]);
      } else {
        expect(answer.status, JSON.stringify(answer.body)).toBe(201);
        expect(answer.body.id).toBe(c.id);
        // Memory the code would have taken (3.2 GB of Buffers), far above what an upload costs.
        expect(rssBytes(pid) - rss).toBeLessThan(256 * 1024 * 1024);
        const removed = await api(`/plugin/${c.id}`, { method: "DELETE" });
        expect(removed.status).toBe(204);
        expect(await pluginIds()).toEqual(plugins);
      }

      expect(readdirSync(outside), "files written outside the data folder").toEqual([]);
      expect(childrenOf(pid)).toEqual([]);
      expect(daemon.exitCode, output).toBeNull();
      expect(daemon.signalCode, output).toBeNull();
      expect(daemon.pid).toBe(pid);
      expect(await health()).toBe(200);
    });
  }
});
