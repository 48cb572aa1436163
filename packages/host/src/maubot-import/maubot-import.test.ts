// `botyard import-maubot` on a copy of a data folder real maubot 0.5.2 wrote
// (../shared/fixtures/maubot-0.5.2): what arrives in botyard, that a second run changes nothing,
// that a dry run writes nothing, that maubot's files are never changed, and that a damaged or
// foreign database is refused with nothing written.
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { copyMaubotFixture } from "../../../../test/support/maubot-fixture.js";
import { loadConfig } from "../config/index.js";
import { HostStore } from "../store/host-store.js";
import { carryInstanceConfig, importMaubot, MaubotImportError } from "./maubot-import.js";
import type { ReportLine } from "./report.js";

let dir: string;
let maubotDir: string;
let configPath: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "botyard-import-test-"));
  maubotDir = copyMaubotFixture(path.join(dir, "maubot"));
  configPath = path.join(dir, "botyard", "config.yaml");
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** sha256 of every file below `folder`, by relative path. */
function hashes(folder: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[path.relative(folder, p)] = createHash("sha256").update(readFileSync(p)).digest("hex");
    }
  };
  walk(folder);
  return out;
}

const outcome = (lines: ReportLine[], kind: ReportLine["kind"], id: string) => lines.find((l) => l.kind === kind && l.id === id);

describe("importing maubot's data folder", () => {
  it("brings over bot accounts, instances with their configs and databases, homeservers and admins, and leaves maubot's files alone", async () => {
    const before = hashes(maubotDir);
    const lines = await importMaubot({ source: maubotDir, configPath });
    expect(hashes(maubotDir)).toEqual(before);

    const { config } = await loadConfig(configPath, { rewrite: false });
    expect(config.homeservers.localhost?.url).toBe("http://127.0.0.1:8448");
    expect(config.admins.admin).toBe("$2b$12$v8DFz84ms.NN/j8cyn327.YD2kp3vaz4dVQv.Or.sxvz.0Fj9UQsq");
    expect(config.server).toMatchObject({ port: 29318, public_url: "http://127.0.0.1:29318" });

    const store = HostStore.open(config.database);
    try {
      expect(store.getClient("@fxbot1:localhost")).toMatchObject({
        homeserver: "http://127.0.0.1:8448",
        device_id: "HIHIRLUYRO",
        enabled: true,
        sync: true,
        autojoin: true,
        online: true,
        displayname: "FX Bot One",
        avatar_url: "disable",
      });
      expect(store.getClient("@fxbot1:localhost")?.access_token).toMatch(/^syt_Znhib3Qx/);
      expect(store.getClient("@fxbot2:localhost")).toMatchObject({ enabled: false, autojoin: false, online: false, displayname: "disable" });

      const sentry = store.getInstance("fxowncast1")!;
      expect(sentry).toMatchObject({ type: "org.botyard.owncastsentry", enabled: true, primary_user: "@fxbot1:localhost", database_engine: "sqlite", last_error: null });
      // notify_format and quiet_hours are unknown to botyard's Owncast Sentry: left out, comment kept.
      expect(sentry.config).toBe("# fxowncast1 settings (Owncast Sentry 1.1.0 has no config class; maubot stores this text as is)\n");
      expect(outcome(lines, "instance", "fxowncast1")?.detail).toContain("config keys notify_format, quiet_hours left out");
      expect(store.getInstance("fxowncast2")).toMatchObject({ type: "org.botyard.owncastsentry", enabled: false, primary_user: "@fxbot2:localhost" });
      for (const id of ["fxping1", "fxstopped"]) {
        const ping = store.getInstance(id)!;
        expect(ping).toMatchObject({ type: "test.botyard.pingbot", enabled: false, state: "stopped" });
        expect(ping.last_error).toContain("needs plugin test.botyard.pingbot");
        expect(outcome(lines, "instance", id)?.outcome).toBe("attention");
      }
      expect(store.getInstance("fxping1")?.config).toContain("reply_prefix: pong");
    } finally {
      store.close();
    }

    const databases = config.plugin_databases.sqlite;
    expect(readdirSync(databases).sort()).toEqual(["fxowncast1.db", "fxowncast2.db", "fxping1.db", "fxstopped.db"]);
    expect(statSync(path.join(databases, "fxowncast1.db")).mode & 0o777).toBe(0o600);
    const db = new Database(path.join(databases, "fxowncast1.db"), { readonly: true });
    try {
      expect(db.prepare("SELECT stream_domain, room_id FROM subscriptions ORDER BY stream_domain").all()).toEqual([
        { stream_domain: "127.0.0.1:18191", room_id: "!FnCNsGHVNMswgrnAKr:localhost" },
        { stream_domain: "127.0.0.1:18192", room_id: "!FnCNsGHVNMswgrnAKr:localhost" },
      ]);
      expect(db.prepare("SELECT version FROM version").get()).toEqual({ version: 3 });
    } finally {
      db.close();
    }
    // The shipped Owncast Sentry bundle came along, since the instances need it.
    expect(readdirSync(config.plugin_directories.upload).some((n) => n.startsWith("owncast-sentry-v"))).toBe(true);
    expect(outcome(lines, "plugin", "org.botyard.owncastsentry")?.outcome).toBe("imported");
  });

  it("changes nothing when run again", async () => {
    await importMaubot({ source: maubotDir, configPath });
    const botyardDir = path.dirname(configPath);
    const store = HostStore.open(path.join(botyardDir, "botyard.db"));
    const rows = { clients: store.listClients(), instances: store.listInstances() };
    store.close();
    const files = hashes(path.join(botyardDir, "databases"));
    const configText = readFileSync(configPath, "utf8");

    const again = await importMaubot({ source: maubotDir, configPath });
    expect(again.filter((l) => l.outcome !== "unchanged")).toEqual([]);
    const after = HostStore.open(path.join(botyardDir, "botyard.db"));
    expect({ clients: after.listClients(), instances: after.listInstances() }).toEqual(rows);
    after.close();
    expect(hashes(path.join(botyardDir, "databases"))).toEqual(files);
    expect(readFileSync(configPath, "utf8")).toBe(configText);
  });

  it("writes nothing on a dry run and reports what a real run would do", async () => {
    const dry = await importMaubot({ source: maubotDir, configPath, dryRun: true });
    expect(existsSync(path.dirname(configPath))).toBe(false);
    const real = await importMaubot({ source: maubotDir, configPath });
    expect(dry.map((l) => [l.kind, l.id, l.outcome])).toEqual(real.map((l) => [l.kind, l.id, l.outcome]));
  });

  it("keeps an existing botyard config unless --force, then writes maubot's settings into it with its comments", async () => {
    const botyardDir = path.dirname(configPath);
    cpSync(fileURLToPath(new URL("../../../../config.example.yaml", import.meta.url)), configPath);
    const original = readFileSync(configPath, "utf8");
    const lines = await importMaubot({ source: maubotDir, configPath });
    expect(outcome(lines, "config", "config.yaml")?.outcome).toBe("attention");
    expect(readFileSync(configPath, "utf8")).toBe(original);
    // The accounts still arrived, in the database the existing config names.
    const store = HostStore.open(path.join(botyardDir, "botyard.db"));
    expect(store.listClients().map((c) => c.id)).toEqual(["@fxbot1:localhost", "@fxbot2:localhost"]);
    store.close();

    await importMaubot({ source: maubotDir, configPath, force: true });
    const written = readFileSync(configPath, "utf8");
    expect(written.startsWith("# botyard configuration.")).toBe(true);
    expect(written).toContain("admin: $2b$12$v8DFz84ms");
    expect(written).toContain("port: 29318");
    expect(readFileSync(`${configPath}.bak`, "utf8")).toBe(original);
  });

  it("refuses a damaged, foreign or PostgreSQL database and writes nothing", async () => {
    const main = path.join(maubotDir, "maubot.db");
    const damaged = readFileSync(main);
    damaged.fill(0x41, 4096, 12288);
    writeFileSync(main, damaged);
    await expect(importMaubot({ source: maubotDir, configPath })).rejects.toThrow(/is not a usable SQLite database .*nothing was imported/);
    expect(existsSync(path.dirname(configPath))).toBe(false);

    rmSync(main);
    const foreign = new Database(main);
    foreign.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)");
    foreign.close();
    await expect(importMaubot({ source: maubotDir, configPath })).rejects.toThrow(/is not a maubot database: it has no client table/);
    expect(existsSync(path.dirname(configPath))).toBe(false);

    const cfg = path.join(maubotDir, "config.yaml");
    writeFileSync(cfg, readFileSync(cfg, "utf8").replace("database: sqlite:maubot.db", "database: postgresql://maubot:pw@db/maubot"));
    const err = await importMaubot({ source: maubotDir, configPath }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MaubotImportError);
    expect((err as Error).message).toMatch(/PostgreSQL .*botyard imports only SQLite/);
    expect((err as Error).message).not.toContain(":pw@");
    expect(existsSync(path.dirname(configPath))).toBe(false);
  });
});

describe("botyard started on maubot's own config", () => {
  it("refuses to use maubot's database as its own, and changes nothing in it", async () => {
    const { config } = await loadConfig(path.join(maubotDir, "config.yaml"), { rewrite: false });
    const before = hashes(maubotDir);
    expect(() => HostStore.open(config.database)).toThrow(/maubot\.db is maubot's database, not botyard's; .*botyard import-maubot/);
    // Opening it left SQLite's -shm/-wal beside it at most; the database itself is unchanged.
    expect(hashes(maubotDir)["maubot.db"]).toBe(before["maubot.db"]);
  });
});

describe("carryInstanceConfig", () => {
  const bundle = { configSchema: { type: "object", additionalProperties: false, properties: { a: {}, b: {} } } } as never;
  it("keeps known keys and comments, drops the rest", () => {
    expect(carryInstanceConfig("# top\na: 1 # one\nx: 2\nb: [1]\n", bundle)).toEqual({ text: "# top\na: 1 # one\nb: [ 1 ]\n", dropped: ["x"] });
  });
  it("leaves text alone for an open schema or no bundle", () => {
    expect(carryInstanceConfig("x: 1\n", null)).toEqual({ text: "x: 1\n", dropped: [] });
    expect(carryInstanceConfig("x: 1\n", { configSchema: { properties: {} } } as never)).toEqual({ text: "x: 1\n", dropped: [] });
  });
});
