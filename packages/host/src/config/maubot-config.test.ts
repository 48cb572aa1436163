// A config.yaml written by a real maubot 0.5.2 (../shared/fixtures/maubot-0.5.2) loads as it is:
// the settings botyard has are used, the others are named once as ignored, and a key maubot
// does not have either is still refused.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MAUBOT_FIXTURE } from "../../../../test/support/maubot-fixture.js";
import { loadConfig } from "./index.js";

const FIXTURE = path.join(MAUBOT_FIXTURE, "config.yaml");

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "botyard-maubot-config-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("a maubot config", () => {
  it("loads unchanged, using what botyard has and naming what it ignores", async () => {
    const file = path.join(dir, "config.yaml");
    copyFileSync(FIXTURE, file);
    const before = readFileSync(file, "utf8");
    const { config, notes } = await loadConfig(file, { rewrite: false });

    expect(config.database).toBe(path.join(dir, "maubot.db"));
    expect(config.plugin_databases.sqlite).toBe(path.join(dir, "plugins"));
    expect(config.server).toMatchObject({ hostname: "127.0.0.1", port: 29318, public_url: "http://127.0.0.1:29318" });
    expect(config.homeservers.localhost).toEqual({ url: "http://127.0.0.1:8448", secret: "REPLACED-SHARED-SECRET", registration_token: null });
    expect(config.admins.root).toBe("");
    expect(config.admins.admin).toMatch(/^\$2b\$12\$/);
    // The dictConfig's root logger says DEBUG.
    expect(config.logging.level).toBe("debug");

    const messages = notes.map((n) => n.message);
    expect(messages).toContain("ignoring maubot setting database_opts: botyard opens its SQLite database itself (no connection pool)");
    expect(messages.some((m) => m.startsWith("logging: maubot's Python logging setup is not used; its root level becomes logging.level debug"))).toBe(true);
    expect(messages.some((m) => m.startsWith("database: reading maubot's"))).toBe(true);
    // maubot's own defaults change nothing and are not worth a line.
    expect(messages.some((m) => m.includes("postgres_opts") || m.includes("override_resource_path") || m.includes("crypto_database"))).toBe(false);
    expect(readFileSync(file, "utf8")).toBe(before);
  });

  it("names the maubot settings an operator changed, and still refuses keys maubot does not have", async () => {
    const base = readFileSync(FIXTURE, "utf8");
    const changed = base
      .replace("postgres:\n", "postgres: postgresql://u:p@db/plugins\n")
      .replace("override_resource_path: false", "override_resource_path: /srv/ui")
      .concat("crypto_db_pickle_key: my.key\n");
    const file = path.join(dir, "config.yaml");
    writeFileSync(file, changed);
    const { notes, config } = await loadConfig(file, { rewrite: false });
    const messages = notes.map((n) => n.message);
    expect(messages).toContain("ignoring maubot setting plugin_databases.postgres: plugin databases are always SQLite files under plugin_databases.sqlite");
    expect(messages).toContain("ignoring maubot setting server.override_resource_path: botyard serves its own web admin page");
    // Used, not ignored: it encrypts the crypto stores.
    expect(messages.some((m) => m.includes("crypto_db_pickle_key"))).toBe(false);
    expect(config.encryption.pickle_key).toBe("my.key");

    writeFileSync(file, `${base}not_a_maubot_key: 1\n`);
    await expect(loadConfig(file, { rewrite: false })).rejects.toThrow(/not_a_maubot_key is not a known setting/);
  });
});
