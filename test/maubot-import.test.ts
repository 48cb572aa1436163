// Moving from maubot, end to end: a copy of the data folder real maubot 0.5.2 wrote
// (../shared/fixtures/maubot-0.5.2) gets accounts and rooms of the test Synapse in place of the
// throwaway ones it holds, `botyard import-maubot` (the built command) moves it into a fresh
// botyard, and the daemon then answers in the same rooms with the same accounts: the imported
// Owncast Sentry lists the imported streams (their domains with ports, as stored), and a stream
// that was live before the move is not announced again.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../packages/host/src/daemon.js";
import { HS_URL, TestUser, isReplyTo, registerUser, waitFor, type TestAccount } from "./support/synapse.js";
import { REPO_ROOT, freePort } from "./support/daemon.js";
import { OwncastSim } from "./owncast/sim.js";
import { copyMaubotFixture } from "./support/maubot-fixture.js";

const MAIN_JS = path.join(REPO_ROOT, "packages/host/dist/main.js");
const LIVE_SINCE = "2026-12-01T15:49:46Z";

function importMaubot(maubotDir: string, configPath: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN_JS, "import-maubot", maubotDir, "-c", configPath], { encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function joinAs(account: TestAccount, roomId: string): Promise<void> {
  const res = await fetch(`${HS_URL}/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${account.access_token}`, "Content-Type": "application/json" },
    body: "{}",
  });
  if (!res.ok) throw new Error(`join failed: ${res.status} ${await res.text()}`);
}

describe("moving a maubot data folder into botyard", () => {
  let dir: string;
  let maubotDir: string;
  let configPath: string;
  let daemon: Daemon | null = null;
  let bot1: TestAccount;
  let bot2: TestAccount;
  let user: TestUser;
  let room1: string;
  const one = new OwncastSim();
  const two = new OwncastSim();

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "botyard-maubot-move-"));
    maubotDir = copyMaubotFixture(path.join(dir, "maubot"));
    configPath = path.join(dir, "botyard", "config.yaml");

    // The streams the fixture's databases name, at the ports they name; 18191 is live.
    await one.start(18191);
    await two.start(18192);
    one.add("127.0.0.1", { name: "FX Owncast One", title: "FX launch party", connectedAt: Date.parse(LIVE_SINCE) });
    two.add("127.0.0.1", { name: "FX Owncast Two", title: "Offline for now" });

    bot1 = await registerUser("fxbot1");
    bot2 = await registerUser("fxbot2");
    user = await TestUser.create("fxuser");
    room1 = await user.createRoom([bot1.user_id], "FX Owncast alerts");
    const room2 = await user.createRoom([bot2.user_id], "FX second room");
    await joinAs(bot1, room1);
    await joinAs(bot2, room2);

    // In the copy only: this homeserver's accounts and rooms in place of the throwaway ones.
    const main = new Database(path.join(maubotDir, "maubot.db"));
    for (const [old, bot] of [["@fxbot1:localhost", bot1], ["@fxbot2:localhost", bot2]] as const) {
      main.prepare("UPDATE client SET id = ?, homeserver = ?, access_token = ?, device_id = ? WHERE id = ?").run(bot.user_id, HS_URL, bot.access_token, bot.device_id, old);
      main.prepare("UPDATE instance SET primary_user = ? WHERE primary_user = ?").run(bot.user_id, old);
    }
    // The operator's Owncast settings for this test's plain-HTTP, loopback streams, beside the
    // keys the original never read (the importer leaves those out).
    const fixtureConfig = (main.prepare("SELECT config FROM instance WHERE id = 'fxowncast1'").get() as { config: string }).config;
    main.prepare("UPDATE instance SET config = ? WHERE id = 'fxowncast1'").run(`${fixtureConfig}poll_interval_seconds: 1\nhttp:\n  scheme: http\n  allow_private_addresses: true\n`);
    main.close();
    for (const [file, oldRoom, newRoom] of [["fxowncast1.db", "!FnCNsGHVNMswgrnAKr:localhost", room1], ["fxowncast2.db", "!ukhDrsUxAJKrohnkds:localhost", room2]] as const) {
      const db = new Database(path.join(maubotDir, "plugins", file));
      db.prepare("UPDATE subscriptions SET room_id = ? WHERE room_id = ?").run(newRoom, oldRoom);
      if (file === "fxowncast1.db") {
        db.prepare("UPDATE streams SET last_connect_time = ?, last_disconnect_time = NULL WHERE domain = '127.0.0.1:18191'").run(LIVE_SINCE);
      }
      db.close();
    }
    const apiPort = await freePort();
    const cfg = path.join(maubotDir, "config.yaml");
    writeFileSync(cfg, readFileSync(cfg, "utf8").replace("port: 29318", `port: ${apiPort}`).replace("http://127.0.0.1:29318", `http://127.0.0.1:${apiPort}`));
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop();
    user?.stop();
    await one.stop();
    await two.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("imports with one command, reporting what needs attention", () => {
    const { status, stdout, stderr } = importMaubot(maubotDir, configPath);
    expect(stderr).toBe("");
    // 3: done, but something needs attention (the Python ping plugin has no botyard bundle).
    expect(status).toBe(3);
    expect(stdout).toMatch(new RegExp(`client ${bot1.user_id.replace(/[.$]/g, "\\$&")} +imported`));
    expect(stdout).toMatch(/instance fxowncast1 +imported: now runs org\.botyard\.owncastsentry .*config keys notify_format, quiet_hours left out/);
    expect(stdout).toMatch(/instance fxping1 +needs attention: .*needs plugin test\.botyard\.pingbot/);
    expect(stdout).toMatch(/database fxowncast1 +imported/);
  });

  it("runs the imported instances with the imported accounts: the room's subscriptions are there, and a live stream is not announced again", async () => {
    const botyardDir = path.dirname(configPath);
    writeFileSync(configPath, readFileSync(configPath, "utf8").replace("console: pretty", "console: off"));
    const { Daemon } = await import("../packages/host/src/daemon.js");
    daemon = new Daemon({ configPath });
    await daemon.start();
    const d = daemon;
    await waitFor(() => d.supervisor.status("fxowncast1").state === "running", 60_000, "the imported Owncast Sentry instance to run");
    expect(d.supervisor.status("fxowncast2").state).toBe("stopped");
    expect(d.store.getInstance("fxping1")?.last_error).toContain("needs plugin test.botyard.pingbot");
    expect(readdirSync(path.join(botyardDir, "databases"))).toContain("fxowncast1.db");

    const cmd = await user.send(room1, "!subscriptions");
    const reply = await user.waitForEvent(isReplyTo(cmd), 30_000, "the !subscriptions reply");
    expect(reply.sender).toBe(bot1.user_id);
    const body = String(reply.content.body);
    expect(body).toContain("Subscriptions for this room (2):");
    expect(body).toContain("FX Owncast One");
    expect(body).toContain("Link: http://127.0.0.1:18191/");
    expect(body).toContain("Link: http://127.0.0.1:18192/");

    // Several polls of the live stream later, still no "is now live" in the room.
    const polled = one.get("127.0.0.1").count("/api/status");
    await waitFor(() => one.get("127.0.0.1").count("/api/status") >= polled + 3, 30_000, "three more polls of the live stream");
    expect(user.events.filter((e) => e.room_id === room1 && e.sender === bot1.user_id && String(e.content.body).includes("is now live"))).toEqual([]);
  });

  it("changes nothing when run a second time", async () => {
    await daemon?.stop();
    daemon = null;
    const { status, stdout } = importMaubot(maubotDir, configPath);
    expect(status).toBe(0);
    expect(stdout).toMatch(/Imported 0, unchanged \d+, skipped 0, needing attention 0\./);
  });
});
