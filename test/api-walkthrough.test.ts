// The curl walkthrough of README.md (its section "Managing botyard with curl"), run as written:
// every ```sh block of that section, in order, in one bash, three times against one daemon (the
// walkthrough must be re-runnable), against `botyard start -c config.yaml` (the built daemon as
// a child process) on the real Synapse. The test only supplies the variables the walkthrough asks the reader for.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HS_URL, randomLocalpart, sharedSecret, waitFor } from "./support/synapse.js";
import { REPO_ROOT as repoRoot, freePort, writeTempConfig, daemonConfigLines } from "./support/daemon.js";

const mainJs = path.join(repoRoot, "packages/host/dist/main.js");
const bundle = path.join(repoRoot, "build/plugins/echo-v0.1.0.mbp");

/** The ```sh blocks of the README's walkthrough section (up to the next `## ` heading), in order. */
function walkthroughScript(): string {
  const readme = readFileSync(path.join(repoRoot, "README.md"), "utf8");
  const section = /^## Managing botyard with curl\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
  expect(section, "README.md has a section '## Managing botyard with curl'").toBeDefined();
  const blocks = [...section!.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(blocks.length).toBeGreaterThanOrEqual(8);
  return `set -euo pipefail\n${blocks.join("\n")}`;
}

describe("the README's curl walkthrough against a daemon on real Synapse", () => {
  let dir: string;
  let daemon: ChildProcess;
  let port: number;
  let daemonOutput = "";
  const password = `walk-${Math.random().toString(36).slice(2)}`;

  beforeAll(async () => {
    if (!existsSync(mainJs)) throw new Error(`${mainJs} is missing; run npm run build first`);
    if (!existsSync(bundle)) throw new Error(`${bundle} is missing; run npm run build first`);
    port = await freePort();
    let configPath: string;
    ({ dir, configPath } = writeTempConfig(
      "botyard-walkthrough-",
      daemonConfigLines({
        database: "./botyard.db",
        port,
        secret: "generate",
        homeservers: { local: { url: HS_URL, secret: sharedSecret() } },
        admins: { walker: password },
        logging: { console: "json" },
      }),
    ));
    daemon = spawn(process.execPath, [mainJs, "start", "-c", configPath], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    daemon.stdout!.on("data", (d: Buffer) => (daemonOutput += d.toString()));
    daemon.stderr!.on("data", (d: Buffer) => (daemonOutput += d.toString()));
    await waitFor(
      async () => {
        if (daemon.exitCode !== null) throw new Error(`daemon exited: ${daemonOutput}`);
        const res = await fetch(`http://127.0.0.1:${port}/_matrix/maubot/v1/features`).catch(() => null);
        return res?.status === 200;
      },
      30_000,
      "the daemon to answer",
    );
  });

  afterAll(async () => {
    if (daemon && daemon.exitCode === null) {
      daemon.kill("SIGTERM");
      await waitFor(() => daemon.exitCode !== null || daemon.signalCode !== null, 10_000, "the daemon to stop").catch(() => daemon.kill("SIGKILL"));
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The walkthrough in one bash, with the variables it asks the reader for. */
  function runWalkthrough(vars: Record<string, string>): Promise<{ stdout: string; stderr: string; code: number; lines: string[]; context: string }> {
    return new Promise((resolve) => {
      execFile(
        "bash",
        ["-c", walkthroughScript()],
        { cwd: repoRoot, timeout: 90_000, env: { ...process.env, BOTYARD: `http://127.0.0.1:${port}`, ADMIN_USER: "walker", ADMIN_PASSWORD: password, HS_NAME: "local", ...vars } },
        (err, stdout, stderr) => {
          const context = `stdout:\n${stdout}\nstderr:\n${stderr}\ndaemon:\n${daemonOutput.slice(-3000)}`;
          resolve({ stdout, stderr, code: err ? ((err as { code?: number }).code ?? 1) : 0, lines: stdout.split("\n"), context });
        },
      );
    });
  }

  /** What every full run prints, whichever way block 3 got its bot account. */
  function expectFullRun(lines: string[], context: string, botId: string): void {
    expect(lines, context).toContain(`{"username":"walker","features":${JSON.stringify(JSON.parse(lines[0]!).features)}}`);
    expect(lines, context).toContain(`{"id":"org.botyard.echo","version":"0.1.0"}`);
    expect(lines, context).toContain(`bot account: ${botId}`);
    expect(lines, context).toContain(`{"pings":0}`);
    const states = lines.filter((l) => l.startsWith('{"id":"echo1"'));
    expect(states, context).toEqual([
      '{"id":"echo1","state":"running","started":true}',
      '{"id":"echo1","state":"stopped","started":false}',
      '{"id":"echo1","state":"running","started":true}',
    ]);
    expect(lines.filter((l) => / instance\.echo1 /.test(l)).length, context).toBeGreaterThan(0);
    expect(lines.some((l) => l.startsWith("[") && (JSON.parse(l) as string[]).includes("counter")), context).toBe(true);
    expect(lines.some((l) => l.startsWith('{"ok":true,"query":"SELECT name, value FROM counter"')), context).toBe(true);
    expect(lines, context).toContain("DELETE instance: 204");
  }

  async function adminApi(method: string, p: string): Promise<{ status: number; json: unknown }> {
    const login = await fetch(`http://127.0.0.1:${port}/_matrix/maubot/v1/auth/login`, { method: "POST", body: JSON.stringify({ username: "walker", password }) });
    const { token } = (await login.json()) as { token: string };
    const res = await fetch(`http://127.0.0.1:${port}/_matrix/maubot/v1${p}`, { method, headers: { authorization: `Bearer ${token}` } });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  }

  it("runs as written twice in a row, and a third time after the bot account left botyard, logging in to it", async () => {
    const botName = randomLocalpart("walkbot");
    const botId = `@${botName}:localhost`;

    const first = await runWalkthrough({ BOT_NAME: botName });
    expect(first.code, first.context).toBe(0);
    expectFullRun(first.lines, first.context, botId);
    const botPassword = /^bot password: ([0-9a-f]{24})$/m.exec(first.stdout)?.[1];
    expect(botPassword, first.context).toBeDefined();

    // Again, as written: the account botyard has is reused, the instance made anew.
    const second = await runWalkthrough({ BOT_NAME: botName });
    expect(second.code, second.context).toBe(0);
    expectFullRun(second.lines, second.context, botId);
    expect(second.stdout, second.context).not.toContain("bot password:");

    // botyard forgets the account (a new data folder would too): register answers user_exists,
    // and the block logs in with the password the first run showed.
    expect((await adminApi("DELETE", `/client/${botId}`)).status).toBe(204);
    const third = await runWalkthrough({ BOT_NAME: botName, BOT_PASSWORD: botPassword! });
    expect(third.code, third.context).toBe(0);
    expectFullRun(third.lines, third.context, botId);
    expect(third.lines, third.context).toContain(`bot password: ${botPassword}`);

    // What the walkthrough left behind: no instance, the bot account syncing.
    expect((await adminApi("GET", "/instances")).json).toEqual([]);
    expect((await adminApi("GET", `/client/${botId}`)).json).toMatchObject({ id: botId, enabled: true, started: true });
  }, 300_000);

  it("stops at the first failure and shows the server's error", async () => {
    const run = await new Promise<{ stdout: string; stderr: string; code: number }>((resolve) => {
      execFile(
        "bash",
        ["-c", walkthroughScript()],
        { cwd: repoRoot, timeout: 30_000, env: { ...process.env, BOTYARD: `http://127.0.0.1:${port}`, ADMIN_USER: "walker", ADMIN_PASSWORD: "not the password" } },
        (err, stdout, stderr) => resolve({ stdout, stderr, code: err ? ((err as { code?: number }).code ?? 1) : 0 }),
      );
    });
    const context = `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
    expect(run.code, context).not.toBe(0);
    expect(run.stderr, context).toContain("invalid_auth: Invalid username or password");
    // Block 1 ended there: no ping, no upload.
    expect(run.stdout, context).toBe("");
  });
});
