// A plugin author outside this repository, with only an installed botyard and no registry that
// has @botyard/* (they are not published): `botyard-cli init` in an empty folder, then
// `botyard-cli build`, offline, without npm install, and the bundle uploads to a daemon.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../packages/host/src/daemon.js";
import { REPO_ROOT, startTempDaemon } from "./support/daemon.js";

const cliBin = path.join(REPO_ROOT, "packages/cli/bin/botyard-cli.mjs");

/** `botyard-cli <args>` in `cwd`, offline: npm, if anything called it, could reach no registry. */
function botyardCli(cwd: string, args: string[]) {
  return promisify(execFile)(process.execPath, [cliBin, ...args], {
    cwd,
    timeout: 60_000,
    env: { ...process.env, npm_config_offline: "true", npm_config_registry: "http://127.0.0.1:9/" },
  });
}

describe("a plugin author outside the repository", () => {
  let author: string;
  let daemon: Daemon;
  let daemonDir: string;
  beforeAll(async () => {
    author = mkdtempSync(path.join(tmpdir(), "botyard-author-"));
    ({ daemon, dir: daemonDir } = await startTempDaemon("botyard-author-daemon-", [
      "server: {port: 0, unshared_secret: author-test-secret-0123456789}",
      "admins: {author: author-password}",
      "logging: {console: off}",
    ]));
  });
  afterAll(async () => {
    await daemon?.stop();
    for (const dir of [author, daemonDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("goes from botyard-cli init to a bundle the daemon accepts, with nothing installed", async () => {
    // Nothing for Node's module resolution to find on the way up from the author's folder.
    for (let dir = author; ; dir = path.dirname(dir)) {
      expect(existsSync(path.join(dir, "node_modules")), dir).toBe(false);
      if (path.dirname(dir) === dir) break;
    }

    const init = await botyardCli(author, ["init", "greeter", "--config"]);
    expect(init.stdout).toContain("Next: botyard-cli build greeter (it bundles the @botyard/sdk that comes with botyard-cli");
    const pkg = JSON.parse(readFileSync(path.join(author, "greeter/package.json"), "utf8")) as Record<string, unknown>;
    // Nothing that npm install would have to fetch from a registry that does not have it.
    expect(JSON.stringify(pkg)).not.toContain("@botyard/");

    const built = await botyardCli(path.join(author, "greeter"), ["build", ".", "-o", "../out/"]);
    expect(built.stderr).toBe("");
    const bundles = readdirSync(path.join(author, "out"));
    expect(bundles).toEqual(["org.example.greeter-v0.1.0.mbp"]);
    expect(existsSync(path.join(author, "greeter", "node_modules"))).toBe(false);

    const api = `http://127.0.0.1:${daemon.api!.port}/_matrix/maubot/v1`;
    const login = await fetch(`${api}/auth/login`, { method: "POST", body: JSON.stringify({ username: "author", password: "author-password" }) });
    const { token } = (await login.json()) as { token: string };
    const upload = await fetch(`${api}/plugins/upload`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/zip" },
      body: readFileSync(path.join(author, "out", bundles[0]!)),
    });
    expect(upload.status, await upload.clone().text()).toBe(201);
    expect(await upload.json()).toMatchObject({ id: "org.example.greeter", version: "0.1.0" });
  });
});
