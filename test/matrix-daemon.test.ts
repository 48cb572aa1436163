// The whole host on the real Synapse: the Daemon started in-process on a temporary config, the
// echo plugin's .mbp installed, echo instances on one bot account. A user sends `!ping` and sees
// the reply; two instances on one client both answer; `!help` lists their commands; a failing
// instance posts one notice to the admin room.
import { rmSync } from "node:fs";
import AdmZip from "adm-zip";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../packages/host/src/daemon.js";
import { HS_URL, TestUser, clientRowFor, isReplyTo, registerUser, waitFor, type TestAccount } from "./support/synapse.js";
import { addClient, echoInstance as instance, runEchoInstance, startTempDaemon, daemonConfigLines } from "./support/daemon.js";

/** A bundle whose plugin throws in start(), built by hand (a plain class is a valid PluginRuntime). */
function failingBundle(): Buffer {
  const zip = new AdmZip();
  zip.addFile("maubot.yaml", Buffer.from("id: org.botyard.test.failing\nversion: 1.0.0\nlicense: MIT\nmain: plugin.mjs\n"));
  zip.addFile(
    "plugin.mjs",
    Buffer.from(`export default class Failing {
  async __botyardStart() { throw new Error("cannot reach its database at postgres://bot:hunter2@db/x"); }
  async __botyardStop() {}
  async __botyardEvent() {}
  async __botyardWeb() { return { status: 404 }; }
  async __botyardConfigUpdate() {}
  __botyardCommands() { return []; }
}
`),
  );
  return zip.toBuffer();
}

describe("the daemon with echo instances on a real Synapse", () => {
  let dir: string;
  let daemon: Daemon;
  let bot: TestAccount;
  let user: TestUser;
  let roomId: string;
  let adminRoom: string;

  beforeAll(async () => {
    bot = await registerUser("echobot");
    user = await TestUser.create("echouser");
    roomId = await user.createRoom([bot.user_id], "chat");
    adminRoom = await user.createRoom([bot.user_id], "admin");
    ({ dir, daemon } = await startTempDaemon(
      "botyard-matrix-e2e-",
      daemonConfigLines({
        database: "./host.db",
        port: 0,
        secret: "matrix-e2e-secret-0123456789abcdef",
        admins: { root: "matrix-e2e-password" },
        logging: { level: "info", console: "off" },
        adminRoom: { roomId: adminRoom, client: bot.user_id },
      }),
    ));
    expect(await addClient(daemon, clientRowFor(bot, HS_URL, { displayname: "Echo Bot" }))).toBe(true);
    await user.waitForJoin(roomId, bot.user_id);
    await user.waitForJoin(adminRoom, bot.user_id);
    await runEchoInstance(daemon, "echo1", bot.user_id);
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop();
    user?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("answers a user's !ping through the echo plugin", async () => {
    const ping = await user.send(roomId, "!ping");
    const reply = await user.waitForEvent(isReplyTo(ping), 30_000, "the echo plugin's pong");
    expect(reply.sender).toBe(bot.user_id);
    expect(String(reply.content.body)).toMatch(/^Pong!/);
    expect(reply.content["m.mentions"]).toEqual({});
  });

  it("delivers events to two instances on one client: both answer", async () => {
    await daemon.supervisor.create(instance("echo2", bot.user_id, "prefix: 'two: '\n"));
    await waitFor(() => daemon.supervisor.status("echo2").state === "running", 30_000, "echo2 to run");
    const ping = await user.send(roomId, "!ping");
    await waitFor(() => user.events.filter(isReplyTo(ping)).length >= 2, 30_000, "two pongs");
    expect(user.events.filter(isReplyTo(ping)).every((e) => e.sender === bot.user_id)).toBe(true);
    const echo = await user.send(roomId, "!echo hello @room");
    await waitFor(
      () => user.events.filter((e) => e.sender === bot.user_id && String(e.content.body).endsWith("hello @room")).length >= 2,
      30_000,
      "two echoes",
    );
    const bodies = user.events.filter((e) => e.sender === bot.user_id && String(e.content.body).endsWith("hello @room")).map((e) => e.content.body);
    expect(bodies).toContain("two: hello @room");
    expect(echo).toBeTruthy();
  });

  it("answers !help with the commands of every instance of the bot", async () => {
    const help = await user.send(roomId, "!help");
    const answer = await user.waitForEvent(isReplyTo(help), 30_000, "the !help notice");
    expect(answer.content.msgtype).toBe("m.notice");
    const body = String(answer.content.body);
    for (const text of ["echo1", "echo2", "!ping", "!echo", "!count", "Repeat the text"]) expect(body).toContain(text);
    // One host answer, not one per instance.
    const helpAnswers = async () => user.events.filter(isReplyTo(help)).length;
    const sentinel = await user.send(roomId, "!ping");
    await waitFor(async () => user.events.filter(isReplyTo(sentinel)).length >= 2, 30_000, "pongs after !help");
    expect(await helpAnswers()).toBe(1);
  });

  it("posts one notice to the admin room when an instance fails", async () => {
    await daemon.registry.install(failingBundle(), { allowOverride: true });
    await daemon.supervisor.create({ ...instance("broken", bot.user_id), type: "org.botyard.test.failing" }).catch(() => undefined);
    await waitFor(() => daemon.supervisor.status("broken").state === "failed", 30_000, "the broken instance to fail");
    const notice = await user.waitForEvent(
      (e) => e.room_id === adminRoom && e.sender === bot.user_id && String(e.content.body).includes("instance broken"),
      30_000,
      "the admin notice",
    );
    expect(notice.content.msgtype).toBe("m.notice");
    expect(String(notice.content.body)).toMatch(/^ERROR instance broken: /);
    expect(String(notice.content.body)).not.toContain("\n");
    expect(String(notice.content.body)).not.toContain(bot.access_token);
    expect(String(notice.content.body)).not.toContain("hunter2");
    // Sentinel: a later message in the admin room; by then a duplicate notice would have arrived.
    const later = await user.send(adminRoom, "sentinel");
    await user.waitForEvent((e) => e.event_id === later);
    await new Promise((r) => setTimeout(r, 1_000));
    const notices = user.events.filter((e) => e.room_id === adminRoom && String(e.content.body).includes("instance broken"));
    expect(notices).toHaveLength(1);
  });
});
