// The npm entry points as a new operator meets them: every one stops first, in one line, on a
// Node older than 22; `npm start` builds, updates the shipped bundles, becomes the daemon (same
// pid), refuses a second start before building anything, and passes `-- <args>` to botyard.
// `npm start` runs here on a copy of scripts/start.mjs in a temporary root whose other parts are
// links to this checkout, so its ./data is the test's own.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, freePort } from "./support/daemon.js";

const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const OLD_NODE_LINE = /^botyard needs Node\.js 22 or newer \(24 recommended\); this is Node\.js 20\.19\.0 \(.+\)\. Install Node\.js 24 /m;

describe("on Node 20", () => {
  let dir: string;
  let preload: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "botyard-old-node-"));
    // The running Node, claiming to be 20: what scripts/check-node.cjs reads.
    preload = path.join(dir, "node-20.cjs");
    writeFileSync(preload, 'Object.defineProperty(process.versions, "node", { value: "20.19.0" });\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const script of ["start", "build", "test", "bench", "typecheck", "test:unit", "test:e2e", "build:plugins"]) {
    it(`npm run ${script} stops first with one line saying how to get Node 22+`, () => {
      const r = spawnSync(npm, ["run", "--silent", script], {
        cwd: REPO_ROOT,
        encoding: "utf8",
        timeout: 60_000,
        env: { ...process.env, NODE_OPTIONS: `--require=${preload}` },
      });
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(OLD_NODE_LINE);
      // Nothing ran after the check: the line is all there is.
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stdout.trim()).toBe("");
    });
  }
});

describe("npm test", () => {
  it("writes no colour codes when its output is not a terminal", () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.NO_COLOR;
    delete env.FORCE_COLOR;
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, "scripts/test.mjs"), "--project", "unit", "packages/host/src/shipped-bundles.test.ts"], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      timeout: 120_000,
      env,
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Tests\s+3 passed/);
    expect(r.stdout + r.stderr).not.toContain("\x1b[");
  });
});

describe("npm start", () => {
  let root: string;
  let port: number;
  let configPath: string;

  /** `npm start [-- args]` in the temporary root (node scripts/start.mjs is what npm runs). */
  function npmStart(args: string[] = []) {
    return spawn(process.execPath, [path.join(root, "scripts/start.mjs"), ...args], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, INIT_CWD: root },
    });
  }

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), "botyard-npm-start-"));
    mkdirSync(path.join(root, "scripts"));
    // Copies: they find the root from their own location.
    for (const f of ["start.mjs", "check-node.cjs"]) copyFileSync(path.join(REPO_ROOT, "scripts", f), path.join(root, "scripts", f));
    for (const f of ["packages", "plugins", "node_modules", "build", "tsconfig.json", "tsconfig.base.json", "config.example.yaml", "package.json", "scripts/build-plugins.mjs"]) {
      symlinkSync(path.join(REPO_ROOT, f), path.join(root, f));
    }
    port = await freePort();
    configPath = path.join(root, "data", "config.yaml");
    mkdirSync(path.dirname(configPath));
    // Not the example's fixed port: other daemons may run on this machine.
    writeFileSync(
      configPath,
      ["server:", `  port: ${port}`, `  public_url: http://127.0.0.1:${port}`, "  unshared_secret: npm-start-test-secret-0123456789", 'admins: {root: ""}', "logging: {console: json}", ""].join("\n"),
    );
    // What an older `npm start` left: a stale copy of the echo bundle, and no record.
    mkdirSync(path.join(root, "data", "plugins"));
    writeFileSync(path.join(root, "data", "plugins", "echo-v0.1.0.mbp"), "an old build");
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("builds, updates the shipped bundles, becomes the daemon, and refuses a second start before building", async () => {
    const first = npmStart();
    let stdout = "";
    let stderr = "";
    first.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    first.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => first.on("exit", (code) => resolve(code)));
    try {
      const deadline = Date.now() + 100_000;
      while (!stdout.includes("botyard running on") && Date.now() < deadline && first.exitCode === null) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const context = `stdout:\n${stdout}\nstderr:\n${stderr}`;
      expect(stdout, context).toContain(`botyard running on http://127.0.0.1:${port}/`);
      expect(stderr, context).toContain("[npm start] shipped plugin updated data/plugins/echo-v0.1.0.mbp\n");
      expect(stderr, context).toMatch(/\[npm start\] shipped plugin added data\/plugins\/owncast-sentry-v[0-9.]+\.mbp\n/);
      expect(readFileSync(path.join(root, "data/plugins/echo-v0.1.0.mbp"))).toEqual(readFileSync(path.join(REPO_ROOT, "build/plugins/echo-v0.1.0.mbp")));
      // The wrapper replaced itself by the daemon: the pid npm waits for is the daemon's.
      const cmdline = readFileSync(`/proc/${first.pid}/cmdline`, "utf8").split("\0");
      expect(cmdline, context).toEqual(expect.arrayContaining([path.join(root, "packages/host/dist/main.js"), "start", "-c", configPath]));
      // No colour codes when the output is not a terminal.
      expect(stdout + stderr).not.toContain("\x1b[");

      // A second start: one line, before any build step.
      const second = npmStart();
      let secondErr = "";
      second.stderr.setEncoding("utf8").on("data", (d: string) => (secondErr += d));
      const secondCode = await new Promise<number | null>((resolve) => second.on("exit", (code) => resolve(code)));
      expect(secondCode).toBe(1);
      expect(secondErr).toBe(
        `[npm start] another botyard (pid ${first.pid}) is running on ${path.join(root, "data")}; stop it first (if no botyard runs, remove the stale lock file ${path.join(root, "data", "botyard.lock")})\n`,
      );
    } finally {
      first.kill("SIGINT");
      const stopped = await Promise.race([exited, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 10_000))]);
      if (stopped === "timeout") first.kill("SIGKILL");
      expect(stopped).toBe(0);
    }
    expect(readdirSync(path.join(root, "data"))).not.toContain("botyard.lock");
  });

  it("passes the arguments after -- to botyard", async () => {
    const child = npmStart(["hash-password", "correct horse"]);
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    expect(code).toBe(0);
    expect(stdout.trim()).toMatch(/^\$2b\$12\$[./A-Za-z0-9]{53}$/);
    expect(existsSync(path.join(root, "data", "botyard.lock"))).toBe(false);
  });
});
