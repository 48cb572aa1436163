// Media links end to end: the daemon in-process on the real Synapse, the plugin's .mbp built by
// the repository's script and run in its worker, Debian's yt-dlp fetching real media files
// (made with ffmpeg) from a local server on 127.0.0.1. A room member posts a link and the room
// gets the video (type, size, dimensions, duration, thumbnail) as a reply, then the caption; an
// image likewise; an oversize file is refused with a message; a burst of links is held to the
// configured limit and the room told once; a failure reaches the admin room at the instance's
// error_notification_level; in an encrypted room the image goes as an encrypted attachment that
// decrypts to the file's bytes.
import { createDecipheriv, createHash } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EncryptedFile, MatrixEvent } from "@botyard/sdk";
import type { Daemon } from "../packages/host/src/daemon.js";
import { MediaServer, makeFixtures } from "../plugins/media-links/test/media-server.js";
import { HS_URL, TestUser, clientRowFor, isReplyTo, registerUser, waitFor, type TestAccount } from "./support/synapse.js";
import { addClient, pluginBundle, startTempDaemon, daemonConfigLines } from "./support/daemon.js";

describe("media links on a real Synapse", () => {
  let dir: string;
  let daemon: Daemon;
  let bot: TestAccount;
  let user: TestUser;
  let roomId: string;
  let burstRoom: string;
  let adminRoom: string;
  let encryptedRoom: string;
  const fixtures = makeFixtures();
  const server = new MediaServer(fixtures.dir);

  const fromBot = (room: string) => (e: MatrixEvent) => e.room_id === room && e.sender === bot.user_id && e.type === "m.room.message";
  const mediaIn = (room: string) => user.events.filter((e) => fromBot(room)(e) && typeof e.content.url === "string");

  /** The instance config; `roomBurst` links at once per room, then one per minute. */
  const instanceConfig = (roomBurst: number) =>
    [
      "url_patterns:",
      String.raw`  - 'http://127\.0\.0\.1:\d+/(?:media|chunked|missing)/\S+'`,
      "max_file_size: 200000",
      "rate_limiting:",
      "  max_requests_per_minute: 60",
      "  burst_size: 20",
      "  room_max_requests_per_minute: 1",
      `  room_burst_size: ${roomBurst}`,
      "  min_delay_seconds: 0",
      "  backoff_seconds: 1",
      "",
    ].join("\n");

  beforeAll(async () => {
    await server.start();
    bot = await registerUser("mediabot");
    user = await TestUser.create("linkposter", HS_URL, { encrypted: true });
    roomId = await user.createRoom([bot.user_id], "links");
    burstRoom = await user.createRoom([bot.user_id], "burst");
    adminRoom = await user.createRoom([bot.user_id], "admin");
    encryptedRoom = await user.createEncryptedRoom([bot.user_id]);
    ({ dir, daemon } = await startTempDaemon(
      "botyard-media-e2e-",
      daemonConfigLines({
        database: "./host.db",
        port: 0,
        secret: "media-e2e-secret-0123456789abcdef",
        admins: { root: "media-e2e-password" },
        logging: { level: "info", console: "off" },
        adminRoom: { roomId: adminRoom, client: bot.user_id },
      }),
    ));
    expect(await addClient(daemon, clientRowFor(bot, HS_URL, { displayname: "Media Bot" }))).toBe(true);
    for (const room of [roomId, burstRoom, adminRoom, encryptedRoom]) await user.waitForJoin(room, bot.user_id);
    await daemon.registry.install(pluginBundle("media-links"), { allowOverride: true });
    await daemon.supervisor.create({
      id: "media",
      type: "org.botyard.medialinks",
      enabled: true,
      primary_user: bot.user_id,
      config: instanceConfig(20),
      database_engine: null,
      isolated: false,
      state: "stopped",
      last_error: null,
      error_notification_level: "WARN",
    });
    await waitFor(() => daemon.supervisor.status("media").state === "running", 60_000, "the media instance to run");
  }, 180_000);

  afterAll(async () => {
    await daemon?.stop();
    user?.stop();
    await server.stop();
    fixtures.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("posts the video of a link as a reply with its type, size, dimensions and thumbnail, then the caption", async () => {
    const clip = fixtures.files.get("clip.mp4")!;
    const link = await user.send(roomId, `the clip: ${server.url("media", "clip.mp4")}`);
    const video = await user.waitForEvent(isReplyTo(link), 90_000, "the video");
    expect(video.sender).toBe(bot.user_id);
    expect(video.content).toMatchObject({
      msgtype: "m.video",
      body: "media-1.mp4",
      info: { mimetype: "video/mp4", size: clip.size, w: 320, h: 240, thumbnail_info: { mimetype: "image/jpeg", w: 320, h: 240 } },
      "m.mentions": {},
    });
    const info = video.content.info as { duration: number; thumbnail_url: string };
    expect(Math.abs(info.duration - 2000)).toBeLessThan(200);
    expect(info.thumbnail_url).toMatch(/^mxc:\/\//);
    // The homeserver holds exactly the file's bytes (uploaded from disk by the host).
    const [, serverName, mediaId] = /^mxc:\/\/([^/]+)\/(\w+)$/.exec(String(video.content.url)) ?? [];
    const download = await fetch(`${HS_URL}/_matrix/client/v1/media/download/${serverName}/${mediaId}`, {
      headers: { authorization: `Bearer ${user.account.access_token}` },
    });
    expect(Buffer.from(await download.arrayBuffer()).equals(readFileSync(clip.path))).toBe(true);

    const caption = await user.waitForEvent((e) => fromBot(roomId)(e) && e.content.msgtype === "m.notice", 30_000, "the caption");
    expect(user.events.indexOf(caption)).toBeGreaterThan(user.events.indexOf(video));
    expect(caption.content).toMatchObject({
      body: "clip\n320×240 · 0:02",
      format: "org.matrix.custom.html",
      formatted_body: "clip<br><em>320×240 · 0:02</em>",
      "m.mentions": {},
    });
  });

  it("posts an image with its type, size and dimensions", async () => {
    const photo = fixtures.files.get("photo.jpg")!;
    const link = await user.send(roomId, server.url("media", "photo.jpg"));
    const image = await user.waitForEvent(isReplyTo(link), 90_000, "the image");
    expect(image.content).toMatchObject({ msgtype: "m.image", body: "media-1.jpg", info: { mimetype: "image/jpeg", size: photo.size, w: 200, h: 150 } });
  });

  it("posts an image into an encrypted room as an encrypted attachment that decrypts to the file's bytes", async () => {
    const photo = fixtures.files.get("photo.jpg")!;
    // The same link as in the unencrypted room: its cached plain post is not reused here.
    const link = await user.send(encryptedRoom, server.url("media", "photo.jpg"));
    const image = await user.waitForEvent(isReplyTo(link), 90_000, "the encrypted image");
    expect(user.encryptedIds.has(image.event_id)).toBe(true);
    expect(image.content).toMatchObject({ msgtype: "m.image", body: "media-1.jpg", info: { mimetype: "image/jpeg", size: photo.size } });
    expect(image.content.url).toBeUndefined();
    const file = image.content.file as EncryptedFile;
    expect(file).toMatchObject({ v: "v2", key: { alg: "A256CTR", kty: "oct" } });

    const [, serverName, mediaId] = /^mxc:\/\/([^/]+)\/(\w+)$/.exec(file.url) ?? [];
    const download = await fetch(`${HS_URL}/_matrix/client/v1/media/download/${serverName}/${mediaId}`, {
      headers: { authorization: `Bearer ${user.account.access_token}` },
    });
    const ciphertext = Buffer.from(await download.arrayBuffer());
    // The homeserver holds no plaintext; the hash, key and iv of the event open it.
    expect(ciphertext.equals(readFileSync(photo.path))).toBe(false);
    expect(createHash("sha256").update(ciphertext).digest("base64").replace(/=+$/, "")).toBe(file.hashes.sha256);
    const decipher = createDecipheriv("aes-256-ctr", Buffer.from(file.key.k, "base64url"), Buffer.from(file.iv, "base64"));
    const plain = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    expect(plain.equals(readFileSync(photo.path))).toBe(true);
  });

  it("refuses a file over max_file_size with a message, posting nothing of it", async () => {
    // About 30 copies of the clip (over 200 kB) streamed without a size: stopped during the download.
    const link = await user.send(roomId, `${server.url("chunked", "clip.mp4")}?repeat=30`);
    const answer = await user.waitForEvent(isReplyTo(link), 90_000, "the refusal");
    expect(answer.content).toMatchObject({ msgtype: "m.notice", body: "That media is larger than 200 kB, the most I post; not posted." });
    expect(user.events.filter((e) => isReplyTo(link)(e))).toHaveLength(1);
  });

  it("holds a burst of links to the room's limit and tells the room once", async () => {
    // Two at once per room from now on (a config change starts the limits afresh).
    await daemon.supervisor.update("media", { config: instanceConfig(2) });
    for (let i = 0; i < 4; i++) await user.send(burstRoom, `${server.url("media", "photo.jpg")}?burst=${i}`);
    // The queue runs in order: once a link posted after the burst is answered, the burst is done.
    const after = await user.send(roomId, `${server.url("media", "photo-really-png.jpg")}`);
    await user.waitForEvent(isReplyTo(after), 120_000, "the link posted after the burst");
    expect(mediaIn(burstRoom)).toHaveLength(2);
    const notices = user.events.filter((e) => fromBot(burstRoom)(e) && String(e.content.body).startsWith("Too many links"));
    expect(notices.map((e) => e.content.body)).toEqual([
      "Too many links here: I fetch at most 1 per minute in a room (2 at once). I skip links until then.",
    ]);
  });

  it("tells the room when a link fails, and the admin room gets the WARN record (error_notification_level WARN)", async () => {
    const link = await user.send(roomId, server.url("missing", "gone.mp4"));
    const answer = await user.waitForEvent(isReplyTo(link), 90_000, "the failure answer");
    expect(answer.content.body).toBe("I could not fetch the media of that link.");
    const notice = await user.waitForEvent(
      (e) => fromBot(adminRoom)(e) && String(e.content.body).startsWith("WARNING instance media: extraction of"),
      30_000,
      "the admin room notice",
    );
    expect(String(notice.content.body)).toContain("404");
  });
});
