import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// The real management API (koa app, registry, supervisor, worker threads) on a loopback port.
import { ADMIN, startApiHarness, type ApiHarness } from "../../host/test-support/api-harness.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const bin = join(root, "packages/cli/dist/main.js");
const run = promisify(execFile);

describe("botyard-cli login and upload against the management API", () => {
  let tmp: string;
  let h: ApiHarness;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), "botyard-cli-upload-"));
    h = await startApiHarness();
    env = { ...process.env, BOTYARD_CLI_CONFIG: join(tmp, "cli.json"), BOTYARD_PASSWORD: "" };
  });
  afterAll(async () => {
    await h?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  const cli = (...args: string[]) => run(process.execPath, [bin, ...args], { env, timeout: 60_000 });
  const failing = (...args: string[]) => cli(...args).then(
    () => {
      throw new Error("expected the command to fail");
    },
    (e: { code: number; stderr: string }) => e,
  );

  it("refuses a wrong password and keeps no token", async () => {
    const err = await failing("login", "-s", h.base, "-u", ADMIN.username, "-p", "wrong");
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(/answered 401/);
    const upload = await failing("upload", join(tmp, "nothing.mbp"));
    expect(upload.stderr).toMatch(/run `botyard-cli login` first/);
  });

  it("logs in, builds with -u, uploads a replacement, and the plugin serves its web endpoint", async () => {
    const login = await cli("login", "-s", `${h.base}/`, "-u", ADMIN.username, "-p", ADMIN.password, "-a", "local");
    expect(login.stdout).toContain(`Logged in to ${h.base} as admin`);
    const saved = JSON.parse(readFileSync(join(tmp, "cli.json"), "utf8"));
    expect(saved).toMatchObject({ default_server: h.base, aliases: { local: h.base } });
    expect(typeof saved.servers[h.base]).toBe("string");
    expect(statSync(join(tmp, "cli.json")).mode & 0o777).toBe(0o600);

    const built = await cli("build", join(root, "plugins/echo"), "-o", `${tmp}/`, "-u");
    expect(built.stdout).toContain("Uploaded org.botyard.echo v0.1.0");
    const again = await cli("upload", join(tmp, "org.botyard.echo-v0.1.0.mbp"), "-s", "local");
    expect(again.stdout).toContain("Replaced org.botyard.echo v0.1.0");

    const plugins = await h.request("GET", "/_matrix/maubot/v1/plugins");
    expect(plugins.json.map((p: { id: string }) => p.id)).toContain("org.botyard.echo");

    h.addClient("@echo:test.local");
    const created = await h.request("PUT", "/_matrix/maubot/v1/instance/echo1", {
      body: { type: "org.botyard.echo", primary_user: "@echo:test.local", enabled: true, started: true },
    });
    expect([200, 201]).toContain(created.status);
    const count = await h.request("GET", "/_matrix/maubot/plugin/echo1/count", { token: null });
    expect(count.status).toBe(200);
    expect(count.json).toEqual({ pings: 0 });
  });

  it("shows the log history, and follows new records until interrupted", async () => {
    const history = await cli("logs", "-t", "500", "--history");
    expect(history.stdout).toMatch(/\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] \[[A-Z]+@[^\]]+\] /);
    expect(history.stdout).toContain("org.botyard.echo");

    // Follow: start the stream, cause a log record (a plugin upload), see it arrive, then Ctrl-C.
    const child = spawn(process.execPath, [bin, "logs", "-t", "0"], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    try {
      // Give the stream time to authenticate before the record is made; retried below if too early.
      for (let attempt = 0; attempt < 20 && !out.includes("org.botyard.echo"); attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        await cli("upload", join(tmp, "org.botyard.echo-v0.1.0.mbp"));
      }
      expect(out).toContain("org.botyard.echo");
    } finally {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGINT");
      expect(await exited).toBe(0);
    }
  });

  it("reports an API refusal with its errcode", async () => {
    const notZip = join(tmp, "not-a-zip.mbp");
    writeFileSync(notZip, "hello");
    const err = await failing("upload", notZip);
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(/answered 400 plugin_invalid/);
  });
});
