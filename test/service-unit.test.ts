// botyard as an installed program under its systemd unit, as far as a machine without a running
// systemd can check it: the tarball of `npm run package` installs offline into a fresh prefix;
// the unit files pass `systemd-analyze verify` and the security rating; the unit's ExecStartPre
// and ExecStart run as systemd would run them (a fresh state directory, the secrets as files in
// $CREDENTIALS_DIRECTORY, nothing secret in the config), and the health unit's check passes.
//
// What systemd itself would add (the sandbox, DynamicUser, UMask, MemoryMax) is not exercised
// here: `systemd-analyze` checks those settings, this file checks the commands they wrap.
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { freePort, REPO_ROOT } from "./support/daemon.js";
import { HS_URL, randomLocalpart, sharedSecret } from "./support/synapse.js";

const UNIT_DIR = path.join(REPO_ROOT, "packaging/systemd");
const UNIT_FILES = ["botyard.service", "botyard-health.service", "botyard-health.timer"];
/** The program path and state directory the shipped units name. */
const UNIT_BIN = "/usr/local/bin/botyard";
const UNIT_STATE = "/var/lib/botyard";

const work = mkdtempSync(path.join(tmpdir(), "botyard-service-"));
const prefix = path.join(work, "prefix");
const installedBin = path.join(prefix, "bin", "botyard");

/** The values of `key=` in a unit file, in order. */
function unitValues(file: string, key: string): string[] {
  return readFileSync(path.join(UNIT_DIR, file), "utf8")
    .split("\n")
    .filter((line) => line.startsWith(`${key}=`))
    .map((line) => line.slice(key.length + 1));
}

/** A unit command line as argv, pointed at the installed program and the test's state directory. */
function commandOf(line: string, stateDir: string): string[] {
  return line.replaceAll(UNIT_BIN, installedBin).replaceAll(UNIT_STATE, stateDir).split(" ");
}

beforeAll(() => {
  // The path the README documents for installing outside a checkout.
  const out = execFileSync(process.execPath, [path.join(REPO_ROOT, "scripts/package.mjs"), "--dir", path.join(work, "stage"), "--pack", work], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 240_000,
  });
  const tarball = out.trim().split("\n").at(-1)!;
  // --offline: every dependency must come from the tarball, none from a registry or cache.
  execFileSync("npm", ["install", "--global", "--offline", "--no-audit", "--no-fund", "--prefix", prefix, tarball], {
    cwd: work,
    stdio: ["ignore", "ignore", "inherit"],
    timeout: 240_000,
  });
  // The stage folder is what the tarball holds; only the installed copy is used from here on.
  rmSync(path.join(work, "stage"), { recursive: true, force: true });
}, 480_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe("the installed package", () => {
  it("answers botyard --version outside the checkout, and holds the shipped bundles and units", () => {
    const root = path.join(prefix, "lib", "node_modules", "botyard");
    const version = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")).version as string;
    expect(execFileSync(installedBin, ["--version"], { cwd: work, encoding: "utf8" }).trim()).toBe(`botyard ${version}`);
    expect(readdirSync(path.join(root, "build/plugins")).sort()).toEqual(readdirSync(path.join(REPO_ROOT, "build/plugins")).sort());
    for (const unit of UNIT_FILES) expect(existsSync(path.join(root, "packaging/systemd", unit))).toBe(true);
    // Nothing links back into the checkout: the host runs from the installed copy.
    expect(readFileSync(path.join(root, "packages/host/bin/botyard.mjs"), "utf8")).toContain("../dist/main.js");
    expect(existsSync(path.join(root, "node_modules/better-sqlite3/package.json"))).toBe(true);
  });
});

describe("the systemd units", () => {
  it("pass systemd-analyze verify with ExecStart pointing at the installed program", () => {
    // verify refuses a unit whose program does not exist, so the test verifies copies with
    // /usr/local/bin/botyard replaced by the installed path (nothing else changes).
    const dir = path.join(work, "units");
    mkdirSync(dir, { recursive: true });
    for (const unit of UNIT_FILES) {
      writeFileSync(path.join(dir, unit), readFileSync(path.join(UNIT_DIR, unit), "utf8").replaceAll(UNIT_BIN, installedBin));
    }
    const r = spawnSync("systemd-analyze", ["verify", "--man=no", ...UNIT_FILES.map((u) => path.join(dir, u))], { encoding: "utf8" });
    expect(r.stderr + r.stdout).toBe("");
    expect(r.status).toBe(0);
  });

  it.each(["botyard.service", "botyard-health.service"])("%s is rated 1.5 or lower by systemd-analyze security", (unit) => {
    const r = spawnSync("systemd-analyze", ["security", "--offline=true", "--no-pager", path.join(UNIT_DIR, unit)], { encoding: "utf8" });
    const rating = /Overall exposure level for \S+: ([0-9.]+) (\w+)/.exec(r.stdout);
    expect(rating, r.stdout + r.stderr).not.toBeNull();
    expect(Number(rating![1])).toBeLessThanOrEqual(1.5);
    expect(rating![2]).toBe("OK");
  });
});

describe("the unit's commands, run as systemd runs them", () => {
  const stateDir = path.join(work, "state", "botyard");
  const credentials = path.join(work, "credentials");
  const secrets: Record<string, string> = {
    "admin-password": randomBytes(18).toString("base64url"),
    "server-secret": randomBytes(32).toString("hex"),
  };
  let daemon: ChildProcess | undefined;
  let output = "";
  let port = 0;
  const env = () => ({ ...process.env, CREDENTIALS_DIRECTORY: credentials, STATE_DIRECTORY: stateDir });

  beforeAll(async () => {
    // One more, as a drop-in's LoadCredential= would add: the homeserver's shared secret.
    secrets["synapse-secret"] = sharedSecret();
    mkdirSync(stateDir, { recursive: true, mode: 0o750 });
    mkdirSync(credentials, { mode: 0o700 });
    // `echo secret > file` leaves a newline: botyard drops it, so the files carry one.
    for (const [name, value] of Object.entries(secrets)) writeFileSync(path.join(credentials, name), `${value}\n`, { mode: 0o400 });
    port = await freePort();
  });

  afterAll(async () => {
    if (daemon && daemon.exitCode === null && daemon.signalCode === null) {
      const exited = new Promise((resolve) => daemon!.once("exit", resolve));
      daemon.kill("SIGKILL");
      await exited;
    }
  });

  it("ExecStartPre writes a config without secrets and copies the shipped bundles", () => {
    const [pre] = unitValues("botyard.service", "ExecStartPre");
    const [cmd, ...args] = commandOf(pre!, stateDir);
    const out = execFileSync(cmd!, args, { cwd: stateDir, env: env(), encoding: "utf8" });
    expect(out).toContain("Created");
    const config = readFileSync(path.join(stateDir, "config.yaml"), "utf8");
    for (const value of Object.values(secrets)) expect(config).not.toContain(value);
    expect(readdirSync(path.join(stateDir, "plugins")).sort()).toEqual(readdirSync(path.join(REPO_ROOT, "build/plugins")).sort());

    // The test's own changes, as an operator would make them: a free port (29316 may be taken
    // on a shared machine) and a homeserver whose shared secret is a credential.
    const doc = parseDocument(config);
    doc.setIn(["server", "port"], port);
    doc.setIn(["server", "public_url"], `http://127.0.0.1:${port}`);
    doc.setIn(["homeservers"], doc.createNode({ test: { url: HS_URL, secret: { credential: "synapse-secret" } } }));
    writeFileSync(path.join(stateDir, "config.yaml"), doc.toString(), { mode: 0o600 });

    // A second start keeps the operator's config and the upload folder as they are.
    const again = execFileSync(cmd!, args, { cwd: stateDir, env: env(), encoding: "utf8" });
    expect(again).toContain("Kept");
    expect(again).not.toContain("Copied");
  });

  it("ExecStart runs the daemon: the health check passes and the admin logs in with the credential's password", async () => {
    const [start] = unitValues("botyard.service", "ExecStart");
    const [cmd, ...args] = commandOf(start!, stateDir);
    daemon = spawn(cmd!, args, { cwd: stateDir, env: env(), stdio: ["ignore", "pipe", "pipe"] });
    daemon.stdout!.setEncoding("utf8").on("data", (d: string) => (output += d));
    daemon.stderr!.setEncoding("utf8").on("data", (d: string) => (output += d));

    // The health unit's own command, on the test's port; tries for up to about 30 s while the
    // daemon starts (the unit uses 3 tries 10 s apart).
    const [check] = unitValues("botyard-health.service", "ExecStart");
    const [checkCmd, ...checkArgs] = commandOf(check!.replace(":29316/", `:${port}/`), stateDir);
    const attempts = checkArgs.indexOf("--attempts");
    checkArgs.splice(attempts, 4, "--attempts", "60", "--interval", "0.5");
    const health = spawnSync(checkCmd!, checkArgs, { encoding: "utf8", timeout: 60_000 });
    expect(health.stdout + health.stderr + output).toContain("healthy (");
    expect(health.status).toBe(0);

    const api = `http://127.0.0.1:${port}/_matrix/maubot/v1`;
    const login = await fetch(`${api}/auth/login`, {
      method: "POST",
      body: JSON.stringify({ username: "root", password: secrets["admin-password"] }),
    });
    expect(login.status).toBe(200);
    const { token } = (await login.json()) as { token: string };
    const wrong = await fetch(`${api}/auth/login`, { method: "POST", body: JSON.stringify({ username: "root", password: "not-it" }) });
    expect(wrong.status).toBe(401);

    const auth = { authorization: `Bearer ${token}` };
    const plugins = (await (await fetch(`${api}/plugins`, { headers: auth })).json()) as { id: string }[];
    expect(plugins.map((p) => p.id).sort()).toEqual(["org.botyard.echo", "org.botyard.medialinks", "org.botyard.owncastsentry"]);

    // The shared secret from the credential registers a bot account on the real homeserver.
    const register = await fetch(`${api}/client/auth/test/register?update_client=true`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ username: randomLocalpart("svc"), password: randomBytes(12).toString("hex") }),
    });
    expect(register.status, await register.clone().text()).toBe(201);
    const { id: botId } = (await register.json()) as { id: string };

    // The installed copy runs plugins in worker threads and the database console in a child
    // process, from files next to its own: both must be in the package.
    const instance = await fetch(`${api}/instance/echo1`, {
      method: "PUT",
      headers: auth,
      body: JSON.stringify({ type: "org.botyard.echo", primary_user: botId, config: "", enabled: true }),
    });
    expect(instance.status, await instance.clone().text()).toBe(201);
    expect(((await instance.json()) as { state: string }).state).toBe("running");
    const query = await fetch(`${api}/instance/echo1/database/query`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ query: "SELECT name FROM sqlite_master WHERE name = 'counter'", rows_as_dict: true }),
    });
    expect(await query.json()).toMatchObject({ ok: true, rows: [{ name: "counter" }] });
  });

  it("stops on SIGTERM; no secret is in any log line or in the config written back", async () => {
    const exited = new Promise<number | null>((resolve) => daemon!.once("exit", (code) => resolve(code)));
    daemon!.kill("SIGTERM");
    expect(await exited).toBe(0);

    const lines = output.split("\n").filter(Boolean);
    expect(lines.length).toBeGreaterThan(3);
    // logging.console: json, for the journal: one JSON object per line.
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(output).toContain("management API listening");
    const config = readFileSync(path.join(stateDir, "config.yaml"), "utf8");
    for (const value of Object.values(secrets)) {
      expect(output).not.toContain(value);
      expect(config).not.toContain(value);
    }
  });

  it("the health check fails once the daemon is gone", () => {
    const r = spawnSync(installedBin, ["health", "--url", `http://127.0.0.1:${port}/_matrix/maubot/v1/health`, "--attempts", "2", "--interval", "0.1"], {
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("unhealthy after 2 attempt(s)");
  });
});
