import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig, prepareServiceConfig, verifyPassword } from "./index.js";

let dir: string;
let credentials: string;
let bundles: string;
const PASSWORD = "an admin password from a credential";
const SERVER_SECRET = "a server secret from a credential, 0123456789";

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "botyard-service-config-"));
  credentials = path.join(dir, "credentials");
  bundles = path.join(dir, "shipped");
  mkdirSync(credentials);
  mkdirSync(bundles);
  writeFileSync(path.join(credentials, "admin-password"), `${PASSWORD}\n`);
  writeFileSync(path.join(credentials, "server-secret"), SERVER_SECRET);
  writeFileSync(path.join(bundles, "a-v1.mbp"), "a");
  writeFileSync(path.join(bundles, "b-v2.mbp"), "b");
  writeFileSync(path.join(bundles, "notes.txt"), "not a bundle");
  process.env.CREDENTIALS_DIRECTORY = credentials;
});
afterEach(() => {
  delete process.env.CREDENTIALS_DIRECTORY;
  rmSync(dir, { recursive: true, force: true });
});

describe("botyard init --service", () => {
  it("writes a config whose secrets are the credentials, with JSON logs, and copies the shipped bundles", async () => {
    const target = path.join(dir, "state", "config.yaml");
    const result = await prepareServiceConfig(target, { bundlesDir: bundles });
    expect(result).toEqual({ configPath: target, configCreated: true, copiedBundles: ["a-v1.mbp", "b-v2.mbp"] });
    const text = readFileSync(target, "utf8");
    expect(text).toContain("unshared_secret: { credential: server-secret }");
    expect(text).toContain("admins: { root: { credential: admin-password } }");
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(SERVER_SECRET);
    expect(readdirSync(path.join(dir, "state", "plugins")).sort()).toEqual(["a-v1.mbp", "b-v2.mbp"]);

    const { config } = await loadConfig(target, { rewrite: false });
    expect(config.logging.console).toBe("json");
    expect(config.server.unshared_secret).toBe(SERVER_SECRET);
    expect(await verifyPassword(PASSWORD, config.admins.root!)).toBe(true);
  });

  it("keeps an existing config and an existing upload folder as they are", async () => {
    const target = path.join(dir, "config.yaml");
    const mine = "# mine\nserver: {port: 4000, unshared_secret: {credential: server-secret}}\nplugin_directories: {upload: ./up, load: [./up]}\n";
    writeFileSync(target, mine);
    mkdirSync(path.join(dir, "up"));
    const result = await prepareServiceConfig(target, { bundlesDir: bundles });
    expect(result.configCreated).toBe(false);
    expect(result.copiedBundles).toEqual([]);
    expect(readFileSync(target, "utf8")).toBe(mine);
    expect(readdirSync(path.join(dir, "up"))).toEqual([]);
  });

  it("fails with the config's own message when a credential is missing", async () => {
    rmSync(path.join(credentials, "server-secret"));
    await expect(prepareServiceConfig(path.join(dir, "config.yaml"), { bundlesDir: bundles })).rejects.toThrow(
      /server\.unshared_secret: cannot read secret file .*server-secret \(ENOENT\)/,
    );
  });
});
