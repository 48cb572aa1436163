import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HostStore, LATEST_VERSION, migrate, MIGRATIONS, StoreError, type ClientRow, type InstanceRow } from "./index.js";

let dir: string;
let store: HostStore | undefined;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "botyard-store-"));
});
afterEach(() => {
  store?.close();
  store = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const client = (id: string, over: Partial<ClientRow> = {}): ClientRow => ({
  id,
  homeserver: "http://127.0.0.1:8008",
  access_token: "syt_token",
  device_id: "DEV",
  enabled: true,
  next_batch: "",
  filter_id: "",
  sync: true,
  autojoin: false,
  online: true,
  displayname: "disable",
  avatar_url: "disable",
  ...over,
});
const instance = (id: string, primaryUser: string, over: Partial<InstanceRow> = {}): InstanceRow => ({
  id,
  type: "xyz.botyard.echo",
  enabled: true,
  primary_user: primaryUser,
  config: "greeting: hi\n",
  database_engine: "sqlite",
  isolated: false,
  state: "stopped",
  last_error: null,
  error_notification_level: "ERROR",
  ...over,
});

describe("HostStore migrations", () => {
  it("creates every table from an empty file with WAL, synchronous=NORMAL and foreign keys", () => {
    const file = path.join(dir, "sub", "host.db");
    store = HostStore.open(file);
    expect(store.db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(store.db.pragma("synchronous", { simple: true })).toBe(1);
    expect(store.db.pragma("foreign_keys", { simple: true })).toBe(1);
    const tables = store.db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all()
      .map((r) => (r as { name: string }).name);
    expect(tables).toEqual(["client", "instance", "plugin", "schema_version"]);
    expect(store.db.prepare("SELECT version FROM schema_version").all()).toEqual([{ version: LATEST_VERSION }]);
  });

  it("reopens idempotently, keeping the data and applying nothing again", () => {
    const file = path.join(dir, "host.db");
    store = HostStore.open(file);
    store.putClient(client("@a:hs"));
    store.close();
    store = HostStore.open(file);
    expect(store.getClient("@a:hs")).toEqual(client("@a:hs"));
    expect(migrate(store.db)).toEqual([]);
    expect(store.db.prepare("SELECT count(*) AS n FROM schema_version").get()).toEqual({ n: 1 });
  });

  it("runs each step in one transaction: a failing step leaves the previous version intact", () => {
    const db = new Database(path.join(dir, "m.db"));
    try {
      const steps = [
        { version: 1, description: "a", up: (d: Database.Database) => d.exec("CREATE TABLE a (x)") },
        {
          version: 2,
          description: "b fails halfway",
          up: (d: Database.Database) => {
            d.exec("CREATE TABLE b (x)");
            throw new Error("boom");
          },
        },
      ];
      expect(() => migrate(db, steps)).toThrow("boom");
      expect(db.prepare("SELECT version FROM schema_version").all()).toEqual([{ version: 1 }]);
      expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'b'").get()).toBeUndefined();
      expect(migrate(db, [steps[0]!, { version: 2, description: "b", up: (d) => d.exec("CREATE TABLE b (x)") }])).toEqual([
        2,
      ]);
    } finally {
      db.close();
    }
  });

  it("gives the instances of a version 1 database error_notification_level ERROR", () => {
    const file = path.join(dir, "v1.db");
    const db = new Database(file);
    try {
      migrate(db, MIGRATIONS.slice(0, 1));
      db.prepare("INSERT INTO client VALUES ('@a:hs', 'http://hs', 't', 'd', 1, '', '', 1, 1, 0, 'disable', 'disable')").run();
      db.prepare("INSERT INTO instance (id, type, enabled, primary_user, config) VALUES ('old', 'p', 1, '@a:hs', '')").run();
      expect(migrate(db)).toEqual([2]);
      expect(db.prepare("SELECT error_notification_level AS l FROM instance").get()).toEqual({ l: "ERROR" });
      expect(() => db.prepare("UPDATE instance SET error_notification_level = 'LOUD'").run()).toThrow(/CHECK constraint/);
    } finally {
      db.close();
    }
  });

  it("refuses a database from a newer botyard", () => {
    const file = path.join(dir, "host.db");
    HostStore.open(file).close();
    const db = new Database(file);
    db.prepare("UPDATE schema_version SET version = 999").run();
    db.close();
    expect(() => HostStore.open(file)).toThrow(/schema version 999, newer than this botyard/);
  });
});

describe("HostStore CRUD", () => {
  beforeEach(() => {
    store = HostStore.open(path.join(dir, "host.db"));
  });

  it("stores clients with booleans round-tripped and upserts by id", () => {
    const s = store!;
    s.putClient(client("@b:hs", { enabled: false, sync: false, autojoin: true }));
    s.putClient(client("@a:hs"));
    expect(s.listClients().map((c) => c.id)).toEqual(["@a:hs", "@b:hs"]);
    const b = s.getClient("@b:hs")!;
    expect(b).toEqual(client("@b:hs", { enabled: false, sync: false, autojoin: true }));
    expect(typeof b.enabled).toBe("boolean");
    s.putClient({ ...b, next_batch: "s72_1", enabled: true });
    expect(s.getClient("@b:hs")).toMatchObject({ next_batch: "s72_1", enabled: true });
    expect(s.listClients()).toHaveLength(2);
    expect(s.getClient("@nobody:hs")).toBeUndefined();
    expect(s.deleteClient("@b:hs")).toBe(true);
    expect(s.deleteClient("@b:hs")).toBe(false);
  });

  it("tells listeners about every stored client", () => {
    const s = store!;
    const seen: string[] = [];
    const off = s.onClientStored((row) => seen.push(row.access_token));
    s.putClient(client("@a:hs", { access_token: "tok-1" }));
    off();
    s.putClient(client("@b:hs", { access_token: "tok-2" }));
    expect(seen).toEqual(["tok-1"]);
  });

  it("stores plugins", () => {
    const s = store!;
    const row = { id: "xyz.botyard.echo", version: "1.0.0", path: "/p/echo.mbp", sha256: "ab", loaded_at: 1700000000000 };
    s.putPlugin(row);
    expect(s.getPlugin(row.id)).toEqual(row);
    s.putPlugin({ ...row, version: "1.1.0" });
    expect(s.listPlugins()).toEqual([{ ...row, version: "1.1.0" }]);
    expect(s.deletePlugin(row.id)).toBe(true);
    expect(s.getPlugin(row.id)).toBeUndefined();
  });

  it("stores instances, their state and error, and lists them by plugin and client", () => {
    const s = store!;
    s.putClient(client("@a:hs"));
    s.putClient(client("@b:hs"));
    s.putInstance(instance("one", "@a:hs", { isolated: true }));
    s.putInstance(instance("two", "@b:hs", { type: "other.plugin", database_engine: null, enabled: false }));
    const { error_notification_level: _, ...unset } = instance("three", "@b:hs");
    s.putInstance(unset);
    s.putInstance(instance("four", "@b:hs", { error_notification_level: "WARN" }));
    expect(s.getInstance("one")).toEqual(instance("one", "@a:hs", { isolated: true }));
    // A row written without error_notification_level gets ERROR; a given one is kept.
    expect([s.getInstance("three")?.error_notification_level, s.getInstance("four")?.error_notification_level]).toEqual(["ERROR", "WARN"]);
    s.deleteInstance("three");
    s.deleteInstance("four");
    expect(s.getInstance("two")).toMatchObject({ enabled: false, database_engine: null, isolated: false });
    expect(s.setInstanceState("one", "failed", "worker died")).toBe(true);
    expect(s.getInstance("one")).toMatchObject({ state: "failed", last_error: "worker died" });
    expect(s.setInstanceState("one", "running", null)).toBe(true);
    expect(s.getInstance("one")).toMatchObject({ state: "running", last_error: null });
    expect(s.setInstanceState("ghost", "running", null)).toBe(false);
    expect(s.instancesOfPlugin("xyz.botyard.echo").map((i) => i.id)).toEqual(["one"]);
    expect(s.instancesOfClient("@b:hs").map((i) => i.id)).toEqual(["two"]);
    expect(s.listInstances().map((i) => i.id)).toEqual(["one", "two"]);
    expect(s.deleteInstance("two")).toBe(true);
    expect(s.listInstances().map((i) => i.id)).toEqual(["one"]);
  });

  it("refuses an instance whose primary user does not exist, and a client still in use", () => {
    const s = store!;
    expect(() => s.putInstance(instance("x", "@ghost:hs"))).toThrow(StoreError);
    s.putClient(client("@a:hs"));
    s.putInstance(instance("x", "@a:hs"));
    try {
      s.deleteClient("@a:hs");
      expect.unreachable("deleteClient accepted a client in use");
    } catch (err) {
      expect(err).toBeInstanceOf(StoreError);
      expect((err as StoreError).errcode).toBe("client_in_use");
    }
    expect(s.getClient("@a:hs")).toBeDefined();
  });

  it("renaming a client cascades to its instances' primary_user", () => {
    const s = store!;
    s.putClient(client("@old:hs"));
    s.putInstance(instance("i1", "@old:hs"));
    s.putInstance(instance("i2", "@old:hs"));
    expect(s.renameClient("@old:hs", "@new:hs")).toBe(true);
    expect(s.getClient("@old:hs")).toBeUndefined();
    expect(s.instancesOfClient("@new:hs").map((i) => i.id)).toEqual(["i1", "i2"]);
    s.putClient(client("@other:hs"));
    expect(() => s.renameClient("@new:hs", "@other:hs")).toThrow(/exists already/);
  });

  it("renames an instance, keeping its fields, and refuses a taken id", () => {
    const s = store!;
    s.putClient(client("@a:hs"));
    s.putInstance(instance("old", "@a:hs", { config: "k: v\n" }));
    s.putInstance(instance("taken", "@a:hs"));
    expect(s.renameInstance("old", "new")).toBe(true);
    expect(s.getInstance("old")).toBeUndefined();
    expect(s.getInstance("new")).toEqual(instance("new", "@a:hs", { config: "k: v\n" }));
    expect(s.renameInstance("ghost", "x")).toBe(false);
    expect(() => s.renameInstance("new", "taken")).toThrow(/instance taken exists already/);
  });

  it("has every write visible to another connection as soon as it returns", () => {
    const s = store!;
    s.putClient(client("@a:hs"));
    const reader = new Database(s.path, { readonly: true });
    try {
      expect(reader.prepare("SELECT id FROM client").all()).toEqual([{ id: "@a:hs" }]);
    } finally {
      reader.close();
    }
  });

  it("closes idempotently", () => {
    store!.close();
    expect(store!.isOpen).toBe(false);
    store!.close();
  });
});
