// The `botyard` command as a user runs it: a child process on the compiled dist/main.js
// (`npm test` builds first).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { verifyPassword } from "./config/index.js";
import { HOST_ENV, HOST_NODE_FLAGS } from "./runtime-flags.js";

const mainJs = fileURLToPath(new URL("../dist/main.js", import.meta.url));

function botyard(args: string[], input?: string) {
  return spawnSync(process.execPath, [mainJs, ...args], { input, encoding: "utf8", timeout: 20_000 });
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "botyard-main-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("botyard command", () => {
  it("--help lists the commands", () => {
    const r = botyard(["--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("botyard start [-c config.yaml]");
    expect(r.stdout).toContain("botyard hash-password [password]");
    expect(r.stdout).toContain("botyard backup <folder>");
    expect(r.stdout).toContain("botyard restore <folder>");
  });

  it("refuses an unknown command with the help text and exit code 2", () => {
    const r = botyard(["frobnicate"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown command "frobnicate"');
  });

  it("hash-password hashes its argument, or stdin, with bcrypt cost 12", async () => {
    const fromArg = botyard(["hash-password", "correct horse"]);
    expect(fromArg.status).toBe(0);
    const hash1 = fromArg.stdout.trim();
    expect(hash1).toMatch(/^\$2b\$12\$/);
    expect(await verifyPassword("correct horse", hash1)).toBe(true);

    const fromStdin = botyard(["hash-password"], "battery staple\n");
    expect(fromStdin.status).toBe(0);
    const hash2 = fromStdin.stdout.trim();
    expect(await verifyPassword("battery staple", hash2)).toBe(true);
    expect(await verifyPassword("battery staple\n", hash2)).toBe(false);
  });

  it("init writes a config with a hashed generated password it prints once", async () => {
    const file = path.join(dir, "config.yaml");
    const r = botyard(["init", "-c", file]);
    expect(r.status).toBe(0);
    const password = /Admin login: root \/ (\S+)/.exec(r.stdout)?.[1];
    expect(password).toBeDefined();
    const text = readFileSync(file, "utf8");
    expect(text).not.toContain(password!);
    const hash = /root: "(\$2b\$12\$[^"]+)"/.exec(text)?.[1];
    expect(await verifyPassword(password!, hash!)).toBe(true);
    expect(botyard(["init", "-c", file]).status).toBe(2);
    // The config holds the server secret: private to the user, and so is a folder made for it.
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const nested = path.join(dir, "new", "config.yaml");
    expect(botyard(["init", "-c", nested]).status).toBe(0);
    expect(statSync(path.dirname(nested)).mode & 0o777).toBe(0o700);
  });

  it("start stops with a message naming the bad key", () => {
    const file = path.join(dir, "config.yaml");
    writeFileSync(file, "server:\n  port: high\n");
    const r = botyard(["start", "-c", file]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`botyard: ${file}: server.port must be integer`);
  });

  it("start on a busy port stops with one line before it creates the database", async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const port = (busy.address() as AddressInfo).port;
    try {
      const file = path.join(dir, "config.yaml");
      writeFileSync(file, `server: {port: ${port}, unshared_secret: main-test-secret-0123456789}\nadmins: {root: ""}\n`);
      const r = botyard(["start", "-c", file]);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(
        `botyard: port ${port} on 127.0.0.1 is already in use (is botyard already running?); stop what uses it or set server.port in ${file}\n`,
      );
      expect(r.stdout).toBe("");
      expect(existsSync(path.join(dir, "botyard.db"))).toBe(false);
      expect(existsSync(path.join(dir, "botyard.lock"))).toBe(false);
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });

  it("start reports a missing config file", () => {
    const r = botyard(["start", "-c", path.join(dir, "nope.yaml")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("cannot read config file");
    expect(r.stderr).toContain("ENOENT");
  });
});

describe("botyard start", () => {
  it("listens on its port and exits 0 within 5 s of SIGINT, databases closed", async () => {
    const file = path.join(dir, "config.yaml");
    writeFileSync(
      file,
      [
        "server: {port: 0, unshared_secret: main-test-secret-0123456789}",
        "admins: {root: \"\"}",
        "logging: {console: json}",
        "",
      ].join("\n"),
    );
    const child = spawn(process.execPath, [mainJs, "start", "-c", file], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.on("exit", (code, signal) => resolve({ code, signal })),
    );
    try {
      // Wait (bounded) for the line saying where it listens.
      const deadline = Date.now() + 25_000;
      let port: number | undefined;
      while (port === undefined && Date.now() < deadline && child.exitCode === null) {
        port = Number(/botyard running on http:\/\/127\.0\.0\.1:(\d+)\//.exec(stdout)?.[1]) || undefined;
        if (port === undefined) await new Promise((r) => setTimeout(r, 50));
      }
      expect(port, `no "running" line; stdout:\n${stdout}\nstderr:\n${stderr}`).toBeDefined();
      const res = await fetch(`http://127.0.0.1:${port}/_matrix/maubot/v1/features`);
      expect(res.status).toBe(200);
      // Relaunched in place (same pid) with the memory settings of runtime-flags.ts.
      if (process.platform === "linux" && typeof (process as { execve?: unknown }).execve === "function") {
        const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, "utf8").split("\0");
        expect(cmdline).toEqual(expect.arrayContaining([...HOST_NODE_FLAGS]));
        const environ = readFileSync(`/proc/${child.pid}/environ`, "utf8").split("\0");
        for (const key of Object.keys(HOST_ENV)) expect(environ.some((e) => e.startsWith(`${key}=`)), key).toBe(true);
      }

      // A second start on the same data folder stops at once, in one line, database untouched.
      expect(readFileSync(path.join(dir, "botyard.lock"), "utf8").trim()).toBe(String(child.pid));
      const second = botyard(["start", "-c", file]);
      expect(second.status).toBe(1);
      expect(second.stderr).toBe(
        `botyard: another botyard (pid ${child.pid}) is running on ${dir}; stop it first (if no botyard runs, remove the stale lock file ${path.join(dir, "botyard.lock")})\n`,
      );

      const sentAt = Date.now();
      child.kill("SIGINT");
      const result = await Promise.race([exited, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 5_000))]);
      expect(result).toEqual({ code: 0, signal: null });
      expect(Date.now() - sentAt).toBeLessThan(5_000);
      const messages = stdout
        .trim()
        .split("\n")
        .map((l) => (JSON.parse(l) as { msg: string }).msg);
      expect(messages).toContain("botyard stopping");
      expect(messages.at(-1)).toBe("botyard stopped");
      // SQLite removes the WAL file when the last connection closes cleanly.
      expect(existsSync(path.join(dir, "botyard.db"))).toBe(true);
      expect(existsSync(path.join(dir, "botyard.db-wal"))).toBe(false);
      await expect(fetch(`http://127.0.0.1:${port}/_matrix/maubot/v1/features`)).rejects.toThrow();
      expect(existsSync(path.join(dir, "botyard.lock"))).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
