import { mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFirstRunConfig, defaultExamplePath, loadConfig, verifyPassword, isBcryptHash, parseDuration } from "./index.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "botyard-config-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(text: string, name = "config.yaml"): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

const SECRET = "s3cr3t-unshared-value-0123456789";

/** The error loading `text` gives, with the file's path (messages name it as given) shown as config.yaml. */
async function loadError(text: string): Promise<string> {
  const file = writeConfig(text);
  try {
    await loadConfig(file, { rewrite: false });
  } catch (err) {
    return (err as Error).message.replaceAll(`${file}:`, "config.yaml:");
  }
  throw new Error("loadConfig accepted an invalid config");
}

describe("config validation", () => {
  it("names the key path and the expected type", async () => {
    expect(await loadError(`server: {port: "abc", unshared_secret: ${SECRET}}\n`)).toBe(
      "config.yaml: server.port must be integer",
    );
  });

  it("names an unknown key, and the known key it looks like", async () => {
    expect(await loadError(`server: {portt: 1, unshared_secret: ${SECRET}}\n`)).toBe(
      "config.yaml: server.portt is not a known setting; did you mean server.port?",
    );
    expect(await loadError(`serverr: {}\n`)).toContain("config.yaml: serverr is not a known setting; did you mean server?");
    expect(await loadError(`homeserver: {}\n`)).toBe("config.yaml: homeserver is not a known setting; did you mean homeservers?");
    expect(await loadError(`server: {host: 0.0.0.0}\n`)).toBe("config.yaml: server.host is not a known setting; did you mean server.hostname?");
    expect(await loadError(`fizzbuzz: 1\n`)).toBe("config.yaml: fizzbuzz is not a known setting");
  });

  it("shows a YAML syntax error with the path given, the line and a caret", async () => {
    const file = writeConfig("server:\n  port: 1\n  hostname: a: b\n");
    const given = path.relative(process.cwd(), file);
    await expect(loadConfig(given, { rewrite: false })).rejects.toThrow(
      `${given}: not valid YAML: Nested mappings are not allowed in compact mappings at line 3, column 13:\n\n  hostname: a: b\n            ^`,
    );
  });

  it("names nested keys under free-form names and missing keys", async () => {
    const msg = await loadError(
      `server: {unshared_secret: ${SECRET}}\nhomeservers:\n  matrix.org: {url: 5}\n  local: {secret: x}\n`,
    );
    expect(msg).toContain('config.yaml: homeservers["matrix.org"].url must be string');
    expect(msg).toContain("config.yaml: homeservers.local.url is required");
  });

  it("describes a secret of the wrong form once", async () => {
    expect(await loadError(`server: {unshared_secret: {path: /x}}\n`)).toBe(
      "config.yaml: server.unshared_secret must be a string, {file: <path>} or {credential: <name>}",
    );
  });

  it("lists allowed values of an enum", async () => {
    expect(await loadError(`server: {unshared_secret: ${SECRET}}\nlogging: {level: loud}\n`)).toBe(
      'config.yaml: logging.level must be one of "trace", "debug", "info", "warn", "error", "fatal"',
    );
  });

  it("refuses a maubot PostgreSQL database URL with a reason", async () => {
    expect(await loadError(`database: postgresql://u:p@db/maubot\nserver: {unshared_secret: ${SECRET}}\n`)).toMatch(
      /^config\.yaml: database: botyard keeps its data in SQLite/,
    );
  });

  it("reports broken YAML with the file name", async () => {
    expect(await loadError(`server: [1, 2\n`)).toMatch(/^config\.yaml: not valid YAML/);
  });

  it("fills defaults and resolves relative paths against the config's folder", async () => {
    const file = writeConfig(`server: {unshared_secret: ${SECRET}}\ndatabase: sqlite:host.db\n`);
    const { config } = await loadConfig(file, { rewrite: false });
    expect(config.database).toBe(path.join(dir, "host.db"));
    expect(config.plugin_directories).toEqual({
      upload: path.join(dir, "plugins"),
      load: [path.join(dir, "plugins")],
      trash: path.join(dir, "trash"),
    });
    expect(config.plugin_databases.sqlite).toBe(path.join(dir, "databases"));
    expect(config.server).toMatchObject({
      hostname: "127.0.0.1",
      port: 29316,
      ui_base_path: "/_matrix/maubot",
      plugin_base_path: "/_matrix/maubot/plugin/",
      token_expiry: 7 * 86400,
      trusted_proxies: [],
    });
    expect(Object.values(config.api_features).every((v) => v === true)).toBe(true);
    expect(config.logging).toEqual({ level: "info", console: "pretty", file: null });
    expect(config.admin_room).toBeNull();
    expect(config.workers).toEqual({ max_memory_mb: 512, max_web_response_mb: 16 });
    expect(config.sync).toEqual({ long_poll_seconds: 55 });
  });

  it("takes the /sync long poll in whole seconds from 5 to 300", async () => {
    const { config } = await loadConfig(writeConfig(`server: {unshared_secret: ${SECRET}}\nsync: {long_poll_seconds: 30}\n`), { rewrite: false });
    expect(config.sync.long_poll_seconds).toBe(30);
    expect(await loadError(`server: {unshared_secret: ${SECRET}}\nsync: {long_poll_seconds: 2}\n`)).toBe("config.yaml: sync.long_poll_seconds must be >= 5");
    expect(await loadError(`server: {unshared_secret: ${SECRET}}\nsync: {long_poll_seconds: 55.5}\n`)).toBe("config.yaml: sync.long_poll_seconds must be integer");
  });

  it("accepts the shipped config.example.yaml", async () => {
    const file = writeConfig(readFileSync(defaultExamplePath(), "utf8"));
    const { config } = await loadConfig(file);
    expect(config.server.unshared_secret).not.toBe("generate");
    expect(config.server.port).toBe(29316);
    expect(config.homeservers["matrix.org"]?.url).toBe("https://matrix-client.matrix.org");
  });

  it("takes trusted_proxies as addresses, CIDR ranges and proxy-addr's names, and names a wrong entry", async () => {
    const good = writeConfig(`server: {unshared_secret: ${SECRET}, trusted_proxies: [loopback, 10.0.0.0/8, "::1", 192.168.1.7]}\n`);
    expect((await loadConfig(good, { rewrite: false })).config.server.trusted_proxies).toEqual(["loopback", "10.0.0.0/8", "::1", "192.168.1.7"]);
    expect(await loadError(`server: {unshared_secret: ${SECRET}, trusted_proxies: [127.0.0.1, proxy.example.com]}\n`)).toBe(
      'config.yaml: server.trusted_proxies[1] "proxy.example.com" is not an IP address, a CIDR range or loopback/linklocal/uniquelocal',
    );
    expect(await loadError(`server: {unshared_secret: ${SECRET}, trusted_proxies: 127.0.0.1}\n`)).toMatch(/server\.trusted_proxies must be array/);
  });

  it("parses durations", () => {
    expect(parseDuration(90)).toBe(90);
    expect(parseDuration("90")).toBe(90);
    expect(parseDuration("15m")).toBe(900);
    expect(parseDuration("12h")).toBe(43200);
  });
});

describe("generated values are written back with comments kept", () => {
  it("hashes a plaintext admin password with cost 12 and rewrites the file", async () => {
    const file = writeConfig(
      [
        "# top comment stays",
        "server:",
        "  # the secret is generated",
        "  unshared_secret: generate # trailing comment stays",
        "admins:",
        "  # alice's password",
        "  alice: hunter2-plaintext",
        '  bob: ""',
        "",
      ].join("\n"),
    );
    const loaded = await loadConfig(file);
    const hash = loaded.config.admins.alice!;
    expect(isBcryptHash(hash)).toBe(true);
    expect(hash.startsWith("$2b$12$")).toBe(true);
    expect(await verifyPassword("hunter2-plaintext", hash)).toBe(true);
    expect(loaded.config.admins.bob).toBe("");

    const text = readFileSync(file, "utf8");
    expect(text).not.toContain("hunter2-plaintext");
    expect(text).toContain(hash);
    expect(text).toContain(loaded.config.server.unshared_secret);
    expect(text).toContain("# top comment stays");
    expect(text).toContain("# the secret is generated");
    expect(text).toContain("# trailing comment stays");
    expect(text).toContain("# alice's password");

    // A second load keeps the same secret and hash and changes nothing.
    const again = await loadConfig(file);
    expect(again.config.admins.alice).toBe(hash);
    expect(again.config.server.unshared_secret).toBe(loaded.config.server.unshared_secret);
    expect(readFileSync(file, "utf8")).toBe(text);
  });

  it("never turns the placeholder `password` into a working login", async () => {
    const file = writeConfig(`server: {unshared_secret: ${SECRET}}\nadmins: {root: password}\n`);
    const { config } = await loadConfig(file);
    expect(await verifyPassword("password", config.admins.root!)).toBe(false);
  });
});

describe("secrets from files", () => {
  it("reads {file: path} relative to the config and drops one trailing newline", async () => {
    mkdirSync(path.join(dir, "secrets"));
    writeFileSync(path.join(dir, "secrets", "unshared"), `${SECRET}\n`);
    writeFileSync(path.join(dir, "secrets", "hs"), "shared-secret-value\n");
    const file = writeConfig(
      [
        "server: {unshared_secret: {file: secrets/unshared}}",
        "homeservers:",
        "  local: {url: 'http://127.0.0.1:8008/', secret: {file: ./secrets/hs}, registration_token: inline-token}",
        "",
      ].join("\n"),
    );
    const loaded = await loadConfig(file);
    expect(loaded.config.server.unshared_secret).toBe(SECRET);
    expect(loaded.config.homeservers.local).toEqual({
      url: "http://127.0.0.1:8008",
      secret: "shared-secret-value",
      registration_token: "inline-token",
    });
    expect(loaded.secrets).toEqual(expect.arrayContaining([SECRET, "shared-secret-value", "inline-token"]));
  });

  it("reads {credential: name} from $CREDENTIALS_DIRECTORY", async () => {
    const creds = path.join(dir, "creds");
    mkdirSync(creds);
    writeFileSync(path.join(creds, "botyard-secret"), SECRET);
    const hash = "$2b$12$" + "a".repeat(53);
    writeFileSync(path.join(creds, "root-hash"), hash + "\n");
    const file = writeConfig(
      "server: {unshared_secret: {credential: botyard-secret}}\nadmins: {root: {credential: root-hash}}\n",
    );
    const before = readFileSync(file, "utf8");
    const { config } = await loadConfig(file, { credentialsDirectory: creds });
    expect(config.server.unshared_secret).toBe(SECRET);
    expect(config.admins.root).toBe(hash);
    expect(readFileSync(file, "utf8")).toBe(before);
  });

  it("uses process.env.CREDENTIALS_DIRECTORY by default", async () => {
    const creds = path.join(dir, "creds");
    mkdirSync(creds);
    writeFileSync(path.join(creds, "s"), SECRET);
    const file = writeConfig("server: {unshared_secret: {credential: s}}\n");
    const saved = process.env.CREDENTIALS_DIRECTORY;
    process.env.CREDENTIALS_DIRECTORY = creds;
    try {
      expect((await loadConfig(file)).config.server.unshared_secret).toBe(SECRET);
    } finally {
      if (saved === undefined) delete process.env.CREDENTIALS_DIRECTORY;
      else process.env.CREDENTIALS_DIRECTORY = saved;
    }
  });

  it("names the key when the secret file is missing or the credentials directory is unset", async () => {
    const file = writeConfig("server: {unshared_secret: {file: /nonexistent/botyard-secret}}\n");
    await expect(loadConfig(file)).rejects.toThrow(
      `${file}: server.unshared_secret: cannot read secret file /nonexistent/botyard-secret (ENOENT)`,
    );
    const file2 = writeConfig("server: {unshared_secret: {credential: x}}\n", "other.yaml");
    const saved = process.env.CREDENTIALS_DIRECTORY;
    delete process.env.CREDENTIALS_DIRECTORY;
    try {
      await expect(loadConfig(file2)).rejects.toThrow(/other\.yaml: server\.unshared_secret names the credential "x"/);
    } finally {
      if (saved !== undefined) process.env.CREDENTIALS_DIRECTORY = saved;
    }
  });
});

describe("first-run config", () => {
  it("creates a config from the example with a generated secret and a hashed generated password", async () => {
    const target = path.join(dir, "data", "config.yaml");
    const result = await createFirstRunConfig(target);
    expect(result.adminName).toBe("root");
    expect(result.adminPassword.length).toBeGreaterThanOrEqual(20);
    const text = readFileSync(target, "utf8");
    expect(text).not.toContain(result.adminPassword);
    expect(text).toContain("# botyard configuration.");
    expect(statSync(target).mode & 0o077).toBe(0);
    const { config } = await loadConfig(target);
    expect(config.admins.root!.startsWith("$2b$12$")).toBe(true);
    expect(await verifyPassword(result.adminPassword, config.admins.root!)).toBe(true);
    expect(config.server.unshared_secret).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(config.database).toBe(path.join(dir, "data", "botyard.db"));
    await expect(createFirstRunConfig(target)).rejects.toThrow(/exists already/);
  });
});
