// ClientPool against the real Synapse with a small in-test RoomEventSink: dispatch, replies,
// filters (own events, backlog), every ClientMethods call, formatting, !help, a revoked token,
// a user/device mismatch, sync: false, and admin-room notices.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { ClientPool } from "../packages/host/src/matrix/client-pool.js";
import { loginWithPassword } from "../packages/host/src/matrix/accounts.js";
import { AdminNoticePoster } from "../packages/host/src/logging/admin-notices.js";
import { createLogging } from "../packages/host/src/logging/logging.js";
import { HS_URL, TestUser, clientRowFor, isReplyTo, registerUser, waitFor, type TestAccount } from "./support/synapse.js";
import { RecordingSink } from "./support/recording-sink.js";

const silent = pino({ level: "silent" });

describe("ClientPool on a real Synapse", () => {
  let bot: TestAccount;
  let user: TestUser;
  let sink: RecordingSink;
  let pool: ClientPool;
  let roomId: string;
  const pools: ClientPool[] = [];

  async function startPool(s: RecordingSink, rows = [clientRowFor(bot)]): Promise<ClientPool> {
    // A short sweep with a small keep, so every test below also runs across timeline trims.
    const p = new ClientPool({ logger: silent, sink: s, timelineKeep: 5, sweepIntervalMs: 300 });
    s.caller = p;
    pools.push(p);
    await p.startAll(rows);
    for (const row of rows) expect(await p.whenReady(row.id, 30_000)).toBe(true);
    return p;
  }

  beforeAll(async () => {
    bot = await registerUser("bot");
    user = await TestUser.create("human");
    sink = new RecordingSink();
    pool = await startPool(sink, [clientRowFor(bot, HS_URL, { displayname: "Pool Bot" })]);
    roomId = await user.createRoom([bot.user_id]);
    await user.waitForJoin(roomId, bot.user_id);
  });

  afterAll(async () => {
    for (const p of pools) await p.stopAll();
    user?.stop();
  });

  it("pushes the displayname and reports status", () => {
    const status = pool.status(bot.user_id);
    expect(status).toMatchObject({ started: true, sync_ok: true, remote_displayname: "Pool Bot", last_error: null });
    expect(pool.status("@nobody:localhost")).toMatchObject({ started: false, sync_ok: false });
  });

  it("dispatches a user's message and the reply sent through the pool arrives", async () => {
    const ping = await user.send(roomId, "!ping");
    const seen = await sink.waitFor(ping);
    expect(seen).toMatchObject({ room_id: roomId, sender: user.userId, type: "m.room.message", content: { body: "!ping" } });
    const reply = await user.waitForEvent(isReplyTo(ping), 20_000, "the pong");
    expect(reply).toMatchObject({ sender: bot.user_id, content: { msgtype: "m.notice", body: "pong", "m.mentions": {} } });
  });

  it("does not dispatch the bot's own messages", async () => {
    const own = await pool.call(bot.user_id, "sendText", { roomId, text: "!ping from the bot itself" });
    await user.waitForEvent((e) => e.event_id === own.eventId, 20_000, "the bot's own message");
    // Events reach the sink in order: once a later user message is there, the bot's would be too.
    const later = await user.send(roomId, "later");
    await sink.waitFor(later);
    expect(sink.saw(own.eventId)).toBe(false);
  });

  it("dispatches reactions, redactions, state and membership changes", async () => {
    const msg = await user.send(roomId, "react to me");
    const reaction = await user.sendContent(roomId, "m.reaction", { "m.relates_to": { rel_type: "m.annotation", event_id: msg, key: "👍" } });
    const redaction = (await user.client.redactEvent(roomId, msg)).event_id;
    const topic = (await user.client.setRoomTopic(roomId, "a topic")).event_id;
    const other = await registerUser("guest");
    await user.invite(roomId, other.user_id);
    expect((await sink.waitFor(reaction)).type).toBe("m.reaction");
    const red = await sink.waitFor(redaction);
    expect(red.type).toBe("m.room.redaction");
    expect(red.redacts ?? red.content.redacts).toBe(msg);
    expect(await sink.waitFor(topic)).toMatchObject({ type: "m.room.topic", state_key: "", content: { topic: "a topic" } });
    await waitFor(
      () => sink.events.some((e) => e.event.type === "m.room.member" && e.event.state_key === other.user_id && e.event.content.membership === "invite"),
      20_000,
      "the invite membership event",
    );
  });

  it("after a restart, messages sent while it was down are not replayed", async () => {
    await pool.stopAll();
    const backlog = await user.send(roomId, "!ping while the bot is down");
    const fresh = new RecordingSink("pong again");
    const restarted = await startPool(fresh);
    const now = await user.send(roomId, "!ping after restart");
    await user.waitForEvent(isReplyTo(now), 20_000, "the reply after restart");
    expect(fresh.saw(now)).toBe(true);
    expect(fresh.saw(backlog)).toBe(false);
    expect(user.events.some(isReplyTo(backlog))).toBe(false);
    pool = restarted;
    sink = fresh;
  });

  it("renders markdown to sanitised HTML with empty mentions, as a client receives it", async () => {
    const sent = await pool.call(bot.user_id, "sendMarkdown", {
      roomId,
      markdown: "**pong** for @room <script>alert(1)</script> [x](javascript:alert(2)) `ok`",
    });
    const ev = await user.waitForEvent((e) => e.event_id === sent.eventId, 20_000, "the markdown message");
    expect(ev.content.format).toBe("org.matrix.custom.html");
    // markdown-it refuses javascript: links (left as text); the script is removed.
    expect(ev.content.formatted_body).toBe("<p><strong>pong</strong> for @room  [x](javascript:alert(2)) <code>ok</code></p>");
    expect(ev.content["m.mentions"]).toEqual({});
    expect(ev.content.body).toContain("**pong**");
  });

  it("runs every ClientMethods call: reply, edit, react, redact, upload, state, power levels, rooms, join, leave", async () => {
    const id = bot.user_id;
    const ask = await user.send(roomId, "question");
    const reply = await pool.call(id, "sendHtml", { roomId, html: "<b>answer</b><img src=x onerror=y>", text: "answer", replyTo: ask });
    const replyEv = await user.waitForEvent((e) => e.event_id === reply.eventId);
    expect(replyEv.content).toEqual({
      msgtype: "m.text",
      body: "answer",
      format: "org.matrix.custom.html",
      formatted_body: "<b>answer</b>",
      "m.mentions": {},
      "m.relates_to": { "m.in_reply_to": { event_id: ask } },
    });

    const edit = await pool.call(id, "sendText", { roomId, text: "answer, edited", edits: reply.eventId });
    const editEv = await user.waitForEvent((e) => e.event_id === edit.eventId);
    expect(editEv.content["m.new_content"]).toEqual({ msgtype: "m.text", body: "answer, edited", "m.mentions": {} });
    expect(editEv.content["m.relates_to"]).toEqual({ rel_type: "m.replace", event_id: reply.eventId });

    const react = await pool.call(id, "react", { roomId, eventId: ask, key: "✅" });
    expect((await user.waitForEvent((e) => e.event_id === react.eventId)).content["m.relates_to"]).toEqual({
      rel_type: "m.annotation",
      event_id: ask,
      key: "✅",
    });

    const custom = await pool.call(id, "sendEvent", { roomId, eventType: "m.room.message", content: { msgtype: "m.text", body: "raw" } });
    expect((await user.waitForEvent((e) => e.event_id === custom.eventId)).content["m.mentions"]).toEqual({});

    const redaction = await pool.call(id, "redact", { roomId, eventId: custom.eventId, reason: "test" });
    expect((await user.waitForEvent((e) => e.event_id === redaction.eventId)).type).toBe("m.room.redaction");

    const upload = await pool.call(id, "uploadMedia", { data: new TextEncoder().encode("hello media"), contentType: "text/plain", filename: "hello.txt" });
    expect(upload.contentUri).toMatch(/^mxc:\/\/localhost\/\w+/);

    expect(await pool.call(id, "getStateEvent", { roomId, eventType: "m.room.create" })).toMatchObject({ room_version: expect.any(String) });
    expect(await pool.call(id, "getStateEvent", { roomId, eventType: "m.room.name" })).toBeNull();
    const levels = await pool.call(id, "getPowerLevels", { roomId });
    expect(levels.users[user.userId]).toBe(100);
    expect(levels).toMatchObject({ users_default: 0, events_default: 0, state_default: 50, ban: 50, kick: 50, redact: 50, invite: 0 });

    const second = await user.createRoom([], "second");
    await user.client.setRoomDirectoryVisibility(second, "public" as never).catch(() => undefined);
    await user.client.sendStateEvent(second, "m.room.join_rules" as never, { join_rule: "public" } as never);
    const joined = await pool.call(id, "join", { roomIdOrAlias: second });
    expect(joined.roomId).toBe(second);
    expect((await pool.call(id, "getJoinedRooms", {})).roomIds.sort()).toEqual([roomId, second].sort());
    await pool.call(id, "leave", { roomId: second });
    expect((await pool.call(id, "getJoinedRooms", {})).roomIds).toEqual([roomId]);
  });

  it("uploads a file from disk with uploadMediaFile and refuses a path that is not a regular file", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "botyard-upload-"));
    try {
      const file = path.join(dir, "clip.bin");
      const bytes = randomBytes(300_000);
      writeFileSync(file, bytes);
      const upload = await pool.call(bot.user_id, "uploadMediaFile", { path: file, contentType: "application/octet-stream", filename: "clip.bin" });
      const [, server, mediaId] = /^mxc:\/\/([^/]+)\/(\w+)$/.exec(upload.contentUri) ?? [];
      const res = await fetch(`${HS_URL}/_matrix/client/v1/media/download/${server}/${mediaId}`, {
        headers: { authorization: `Bearer ${user.account.access_token}` },
      });
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);

      await expect(pool.call(bot.user_id, "uploadMediaFile", { path: "clip.bin", contentType: "text/plain" })).rejects.toThrow(/absolute path/);
      await expect(pool.call(bot.user_id, "uploadMediaFile", { path: "/dev/zero", contentType: "text/plain" })).rejects.toThrow(/not a regular file/);
      await expect(pool.call(bot.user_id, "uploadMediaFile", { path: path.join(dir, "gone"), contentType: "text/plain" })).rejects.toThrow(/ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps one instance's sends to one room in order", async () => {
    const sends = Array.from({ length: 15 }, (_, i) => pool.call(bot.user_id, "sendText", { roomId, text: `seq ${i}` }));
    const ids = (await Promise.all(sends)).map((r) => r.eventId);
    await user.waitForEvent((e) => e.event_id === ids[ids.length - 1]);
    const order = user.events.filter((e) => ids.includes(e.event_id)).map((e) => e.content.body);
    expect(order).toEqual(Array.from({ length: 15 }, (_, i) => `seq ${i}`));
  });

  it("drops old live timeline events to bound memory, and keeps receiving", async () => {
    for (let i = 0; i < 12; i++) await user.send(roomId, `filler ${i}`);
    const last = await user.send(roomId, "after the fillers");
    await sink.waitFor(last);
    // 13 new events in one room; the sweep keeps at most 5 (plus what arrives after a sweep).
    await waitFor(() => (pool.memoryStats(bot.user_id)?.largest_timeline ?? 99) <= 5, 10_000, "the timeline to be trimmed");
    const ping = await user.send(roomId, "!ping after trimming");
    await user.waitForEvent(isReplyTo(ping), 20_000, "a reply after trimming");
  });

  it("answers !help with the commands of every instance of the bot", async () => {
    sink.commands = [
      { instanceId: "echo1", commands: [{ name: "ping", aliases: [], usage: "!ping", help: "Answers pong" }] },
      { instanceId: "sentry", commands: [{ name: "subscribe", aliases: ["sub"], usage: "!subscribe <url>", help: "Follow an Owncast server" }] },
    ];
    const help = await user.send(roomId, "!help");
    const answer = await user.waitForEvent(isReplyTo(help), 20_000, "the !help answer");
    expect(answer.content.msgtype).toBe("m.notice");
    expect(answer.content.body).toContain("!ping");
    expect(answer.content.body).toContain("Answers pong");
    expect(answer.content.body).toContain("!subscribe <url>");
    expect(answer.content.formatted_body).toContain("<strong>echo1</strong>");
    expect(answer.content["m.mentions"]).toEqual({});
  });

  it("applies a changed row: profile in place, clearcache and a new token by restarting", async () => {
    const row = clientRowFor(bot, HS_URL, { displayname: "Pool Bot" });
    await pool.update({ ...row, displayname: "Renamed Bot" });
    expect(pool.status(bot.user_id)).toMatchObject({ started: true, remote_displayname: "Renamed Bot" });

    await pool.clearCache(bot.user_id);
    expect(await pool.whenReady(bot.user_id, 30_000)).toBe(true);
    const afterClear = await user.send(roomId, "!ping after clearcache");
    await user.waitForEvent(isReplyTo(afterClear), 20_000, "a reply after clearcache");

    const second = await loginWithPassword(HS_URL, bot.localpart, bot.password);
    await pool.update({ ...row, displayname: "Renamed Bot", access_token: second.access_token, device_id: second.device_id });
    expect(await pool.whenReady(bot.user_id, 30_000)).toBe(true);
    const afterToken = await user.send(roomId, "!ping with a new token");
    await user.waitForEvent(isReplyTo(afterToken), 20_000, "a reply with the new token");
  });

  it("with sync off, sends but receives nothing", async () => {
    const quiet = await registerUser("quiet");
    const s = new RecordingSink();
    const p = await startPool(s, [clientRowFor(quiet, HS_URL, { sync: false })]);
    expect(p.status(quiet.user_id)).toMatchObject({ started: true, sync_ok: false, last_error: null });
    await user.invite(roomId, quiet.user_id);
    await p.call(quiet.user_id, "join", { roomIdOrAlias: roomId });
    const msg = await p.call(quiet.user_id, "sendText", { roomId, text: "webhook-style bot" });
    await user.waitForEvent((e) => e.event_id === msg.eventId);
    const later = await user.send(roomId, "!ping quiet");
    await sink.waitFor(later); // the syncing bot got it ...
    expect(s.events).toEqual([]); // ... the non-syncing one did not
    await p.stopAll();
  });

  it("shows a user mismatch as the client's error and does not start it", async () => {
    const other = await registerUser("other");
    const p = new ClientPool({ logger: silent, sink: null });
    pools.push(p);
    await p.start(clientRowFor(other, HS_URL, { id: bot.user_id }));
    expect(p.status(bot.user_id)).toMatchObject({ started: false });
    expect(p.status(bot.user_id).last_error).toContain("user mismatch");
    const devMismatch = clientRowFor(other, HS_URL, { device_id: "NOTTHISDEVICE" });
    await p.start(devMismatch);
    expect(p.status(other.user_id).last_error).toContain("device mismatch");
    await expect(p.call(other.user_id, "getJoinedRooms", {})).rejects.toThrow(/device mismatch/);
    await p.stopAll();
  });

  it("stops a client whose token was revoked and shows the error; the admin room hears about it", { timeout: 180_000 }, async () => {
    const victim = await registerUser("victim");
    const session = await loginWithPassword(HS_URL, victim.localpart, victim.password);
    // The admin room, posted to by the main bot, with the host's real logging in between.
    const adminRoom = await user.createRoom([bot.user_id], "admin");
    await user.waitForJoin(adminRoom, bot.user_id);
    const logging = createLogging({ level: "info", console: "off", file: null });
    const p = new ClientPool({ logger: logging.logger, sink: null });
    pools.push(p);
    await p.start(clientRowFor(bot));
    await p.start(clientRowFor(session));
    expect(await p.whenReady(session.user_id, 30_000)).toBe(true);
    const poster = new AdminNoticePoster({ ring: logging.ring, caller: p, target: { room_id: adminRoom, client: bot.user_id } });
    poster.start();

    // Log the bot's device out from outside, as an operator or a password change would.
    const res = await fetch(`${HS_URL}/_matrix/client/v3/logout`, { method: "POST", headers: { authorization: `Bearer ${session.access_token}` } });
    expect(res.status).toBe(200);
    // The sync loop's next request (after the current long poll) hits M_UNKNOWN_TOKEN.
    await waitFor(() => p.status(session.user_id).last_error !== null, 90_000, "the token error in status");
    expect(p.status(session.user_id)).toMatchObject({ started: false, sync_ok: false });
    expect(p.status(session.user_id).last_error).toMatch(/M_UNKNOWN_TOKEN/);
    await expect(p.call(session.user_id, "getJoinedRooms", {})).rejects.toThrow(/M_UNKNOWN_TOKEN/);

    const notice = await user.waitForEvent(
      (e) => e.room_id === adminRoom && e.sender === bot.user_id && String(e.content.body).includes(session.user_id),
      20_000,
      "the admin notice",
    );
    expect(notice.content.msgtype).toBe("m.notice");
    expect(notice.content.body).toMatch(new RegExp(`^ERROR client ${session.user_id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: .*M_UNKNOWN_TOKEN`));
    expect(notice.content.body).not.toContain(session.access_token);
    expect(String(notice.content.body).split("\n")).toHaveLength(1);
    await poster.stop();
    await p.stopAll();
    logging.close();
  });
});
