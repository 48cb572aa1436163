// The Nix side, as far as Debian's nix-bin can check it without nixpkgs (which cannot be
// fetched here): every .nix file parses; nix/unit.nix, the builtins-only mapping from
// services.botyard's options to the units and config, renders packaging/systemd/ exactly with
// its defaults and maps the options as the module documents; and the config it generates is one
// the daemon starts on. module.nix's option declarations and package.nix need nixpkgs' `lib`
// and builders, so they are only parsed.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, REPO_ROOT } from "./support/daemon.js";

const NIX_DIR = path.join(REPO_ROOT, "nix");
const UNIT_NIX = path.join(NIX_DIR, "unit.nix");
const BOTYARD = path.join(REPO_ROOT, "packages/host/bin/botyard.mjs");
const work = mkdtempSync(path.join(tmpdir(), "botyard-nix-"));

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Evaluates `(import nix/unit.nix ARGS).PATH` and returns it as JSON data. */
function evalUnit<T>(args: string, attrPath: string): T {
  const expr = `(import ${UNIT_NIX} ${args}).${attrPath}`;
  return JSON.parse(execFileSync("nix-instantiate", ["--eval", "--strict", "--json", "-E", expr], { encoding: "utf8" })) as T;
}

/** Unit file lines without comments and blank lines. */
const significantLines = (text: string) => text.split("\n").filter((line) => line.trim() !== "" && !line.startsWith("#"));

interface UnitSections {
  Unit: [string, string][];
  Service: [string, string][];
}

describe("nix/", () => {
  it("every .nix file parses", () => {
    const files = readdirSync(NIX_DIR).filter((f) => f.endsWith(".nix"));
    expect(files.sort()).toEqual(["flake.nix", "module.nix", "package.nix", "unit.nix"]);
    for (const file of files) {
      const r = spawnSync("nix-instantiate", ["--parse", path.join(NIX_DIR, file)], { encoding: "utf8" });
      expect(r.stderr, file).toBe("");
      expect(r.status, file).toBe(0);
    }
  });

  it.each(["botyard.service", "botyard-health.service", "botyard-health.timer"])("unit.nix with its defaults renders packaging/systemd/%s", (unit) => {
    const rendered = evalUnit<string>("{ }", `text."${unit}"`);
    const shipped = readFileSync(path.join(REPO_ROOT, "packaging/systemd", unit), "utf8");
    expect(significantLines(rendered)).toEqual(significantLines(shipped));
  });

  it("maps the module's options onto the units and the config", () => {
    const args = `{
      execPath = "/nix/store/x-botyard/bin/botyard";
      dataDir = "/var/lib/bots/yard";
      host = "0.0.0.0";
      port = 8123;
      credentialFiles = { admin-password = "/run/secrets/a"; server-secret = "/run/secrets/s"; synapse-secret = "/run/secrets/syn"; };
      configFile = "/nix/store/y-botyard-config.yaml";
      installPath = "/nix/store/c/bin/install";
      settings = { logging.level = "debug"; server.public_url = "https://bots.example.org"; homeservers.ex = { url = "http://127.0.0.1:8008"; secret.credential = "synapse-secret"; }; };
    }`;
    const service = evalUnit<UnitSections>(args, `units."botyard.service"`);
    const values = (key: string) => service.Service.filter(([k]) => k === key).map(([, v]) => v);
    expect(values("ExecStartPre")).toEqual([
      "/nix/store/c/bin/install -m 0600 /nix/store/y-botyard-config.yaml /var/lib/bots/yard/config.yaml",
      "/nix/store/x-botyard/bin/botyard init --service -c /var/lib/bots/yard/config.yaml",
    ]);
    expect(values("ExecStart")).toEqual(["/nix/store/x-botyard/bin/botyard start -c /var/lib/bots/yard/config.yaml"]);
    expect(values("StateDirectory")).toEqual(["bots/yard"]);
    expect(values("LoadCredential")).toEqual(["admin-password:/run/secrets/a", "server-secret:/run/secrets/s", "synapse-secret:/run/secrets/syn"]);

    const serviceConfig = evalUnit<Record<string, string | string[]>>(args, "serviceConfig.botyard");
    expect(serviceConfig.SystemCallFilter).toEqual(["@system-service", "~@privileged"]);
    expect(serviceConfig.MemoryMax).toBe("512M");
    // Listening on every address, the health check asks on the loopback one.
    expect(evalUnit<string>(args, "healthUrl")).toBe("http://127.0.0.1:8123/_matrix/maubot/v1/health");

    const config = evalUnit<Record<string, Record<string, unknown>>>(args, "config");
    expect(config.server).toEqual({
      hostname: "0.0.0.0",
      port: 8123,
      public_url: "https://bots.example.org",
      unshared_secret: { credential: "server-secret" },
    });
    expect(config.logging).toEqual({ level: "debug", console: "json", file: null });
    expect(config.admins).toEqual({ root: { credential: "admin-password" } });
    expect(config.homeservers).toEqual({ ex: { url: "http://127.0.0.1:8008", secret: { credential: "synapse-secret" } } });
  });

  it("refuses a dataDir outside /var/lib", () => {
    const r = spawnSync("nix-instantiate", ["--eval", "--strict", "-E", `(import ${UNIT_NIX} { dataDir = "/srv/botyard"; }).stateDirectory`], { encoding: "utf8" });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("services.botyard.dataDir must be a folder under /var/lib");
  });

  it("the generated config is one the daemon starts on, with the credentials the module gives it", async () => {
    const port = await freePort();
    const dataDir = path.join(work, "state");
    const credentials = path.join(work, "credentials");
    mkdirSync(dataDir, { recursive: true });
    mkdirSync(credentials);
    const password = randomBytes(18).toString("base64url");
    const serverSecret = randomBytes(32).toString("hex");
    writeFileSync(path.join(credentials, "admin-password"), password);
    writeFileSync(path.join(credentials, "server-secret"), serverSecret);
    // What the module's ExecStartPre installs: the JSON of `config`, as config.yaml.
    const config = evalUnit<object>(`{ port = ${port}; }`, "config");
    writeFileSync(path.join(dataDir, "config.yaml"), JSON.stringify(config, null, 2), { mode: 0o600 });
    const env = { ...process.env, CREDENTIALS_DIRECTORY: credentials };

    execFileSync(process.execPath, [BOTYARD, "init", "--service", "-c", path.join(dataDir, "config.yaml")], { env, encoding: "utf8" });
    const daemon = spawn(process.execPath, [BOTYARD, "start", "-c", path.join(dataDir, "config.yaml")], { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    daemon.stdout.setEncoding("utf8").on("data", (d: string) => (output += d));
    daemon.stderr.setEncoding("utf8").on("data", (d: string) => (output += d));
    const exited = new Promise<number | null>((resolve) => daemon.once("exit", (code) => resolve(code)));
    try {
      const url = evalUnit<string>(`{ port = ${port}; }`, "healthUrl");
      const health = spawnSync(process.execPath, [BOTYARD, "health", "--url", url, "--attempts", "60", "--interval", "0.5"], { encoding: "utf8", timeout: 60_000 });
      expect(health.status, health.stderr + output).toBe(0);
      const login = await fetch(`http://127.0.0.1:${port}/_matrix/maubot/v1/auth/login`, {
        method: "POST",
        body: JSON.stringify({ username: "root", password }),
      });
      expect(login.status).toBe(200);
    } finally {
      daemon.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
    for (const secret of [password, serverSecret]) {
      expect(output).not.toContain(secret);
      expect(readFileSync(path.join(dataDir, "config.yaml"), "utf8")).not.toContain(secret);
    }
    expect(readdirSync(path.join(dataDir, "plugins")).length).toBeGreaterThan(0);
  });
});
