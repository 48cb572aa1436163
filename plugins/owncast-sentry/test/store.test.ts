import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runMigrations, type SqlDatabase } from "@botyard/sdk";
import { MIGRATIONS, SentryStore } from "../src/store.js";

let dir: string;
let db: Database.Database;
const sql = () => db as unknown as SqlDatabase;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "sentry-store-"));
  db = new Database(join(dir, "db.sqlite"));
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("migrations", () => {
  it("v1 to v3 are the original's; a database the original left at v3 is carried over by v4", () => {
    runMigrations(sql(), MIGRATIONS.slice(0, 3));
    const cols = (db.prepare("PRAGMA table_info(subscriptions)").all() as { name: string; type: string }[]).map((c) => `${c.name}:${c.type}`);
    expect(cols).toEqual(["stream_domain:TEXT", "room_id:TEXT"]);
    db.exec(`INSERT INTO streams (domain, name, title, last_connect_time, last_disconnect_time, failure_counter) VALUES
      ('live.example', 'Live', 'on air', '2026-01-01T00:00:00Z', NULL, 0),
      ('new.example', NULL, NULL, NULL, NULL, 0),
      ('dead.example', 'Dead', '', NULL, '2025-12-01T00:00:00Z', 600),
      ('orphan.example', NULL, NULL, NULL, NULL, 0)`);
    db.exec(`INSERT INTO subscriptions VALUES ('live.example', '!a:x'), ('new.example', '!a:x'), ('dead.example', '!b:x'), ('norow.example', '!b:x')`);
    const result = runMigrations(sql(), MIGRATIONS);
    expect(result).toMatchObject({ from: 3, to: 4 });
    const rows = db.prepare("SELECT domain, initialized, failure_counter, first_failure_at IS NOT NULL AS failing, length(webhook_token) AS tl FROM streams ORDER BY domain").all();
    expect(rows).toEqual([
      { domain: "dead.example", initialized: 1, failure_counter: 600, failing: 1, tl: 32 },
      { domain: "live.example", initialized: 1, failure_counter: 0, failing: 0, tl: 32 },
      { domain: "new.example", initialized: 0, failure_counter: 0, failing: 0, tl: 32 },
      { domain: "norow.example", initialized: 0, failure_counter: 0, failing: 0, tl: 32 },
    ]);
    const dead = db.prepare("SELECT first_failure_at FROM streams WHERE domain = 'dead.example'").get() as { first_failure_at: number };
    expect(Math.abs(Date.now() - 600 * 60_000 - dead.first_failure_at)).toBeLessThan(5_000);
  });
});

describe("SentryStore", () => {
  let store: SentryStore;
  beforeEach(() => {
    runMigrations(sql(), MIGRATIONS);
    store = new SentryStore(sql());
  });

  it("subscribes once per room and creates the stream row with the first subscription", () => {
    expect(store.subscribe("a.example", "!r1:x")).toBe("added");
    expect(store.subscribe("a.example", "!r1:x")).toBe("already-subscribed");
    expect(store.subscribe("a.example", "!r2:x")).toBe("added");
    expect(store.countSubscriptions("a.example")).toBe(2);
    expect(store.subscribersOf("a.example").map((s) => s.roomId)).toEqual(["!r1:x", "!r2:x"]);
    expect(store.get("a.example")).toMatchObject({ domain: "a.example", initialized: false, failureCount: 0 });
  });

  it("drops the stream row with its last subscription only", () => {
    store.subscribe("a.example", "!r1:x");
    store.subscribe("a.example", "!r2:x");
    expect(store.unsubscribe("a.example", "!r1:x")).toBe(true);
    expect(store.get("a.example")).not.toBeNull();
    expect(store.unsubscribe("a.example", "!r2:x")).toBe(true);
    expect(store.get("a.example")).toBeNull();
    expect(store.unsubscribe("a.example", "!r2:x")).toBe(false);
  });

  it("saves and reads back every field", () => {
    store.subscribe("a.example", "!r1:x");
    const r = store.get("a.example")!;
    const changed = { ...r, name: "N", title: "T", tags: ["x", "y"], lastConnectTime: "c", failureCount: 3, initialized: true, lastNotifiedAt: 5, lastOfflineAt: 6, firstFailureAt: 7, lastAttemptAt: 8, cleanupWarned: true, titlePending: true, announcedTitle: "A" };
    store.save(changed);
    expect(store.get("a.example")).toEqual(changed);
    expect(store.byWebhookToken(r.webhookToken)?.domain).toBe("a.example");
  });

  it("removes a stream with all its subscriptions, returning the rooms", () => {
    store.subscribe("a.example", "!r1:x");
    store.subscribe("a.example", "!r2:x");
    expect(store.removeStream("a.example").map((s) => s.roomId)).toEqual(["!r1:x", "!r2:x"]);
    expect(store.subscribedStreamsAfter("", 10)).toEqual([]);
  });
});
