// Owncast Sentry end to end: the daemon in-process on the real Synapse, the plugin's .mbp built
// by the repository's script, the simulated Owncast on 127.0.0.1. A room member subscribes, the
// stream goes live, and the notice arrives in the room as HTML with a clean body; a signed
// webhook delivered to the instance's public URL announces a title change at once.
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../packages/host/src/daemon.js";
import { HS_URL, TestUser, clientRowFor, isReplyTo, registerUser, waitFor, type TestAccount } from "./support/synapse.js";
import { addClient, freePort, pluginBundle, startTempDaemon, daemonConfigLines } from "./support/daemon.js";
import { OwncastSim, sendWebhook } from "./owncast/sim.js";

describe("Owncast Sentry on a real Synapse", () => {
  let dir: string;
  let daemon: Daemon;
  let bot: TestAccount;
  let user: TestUser;
  let roomId: string;
  const sim = new OwncastSim();
  const SECRET = "e2e-webhook-secret";

  beforeAll(async () => {
    await sim.start();
    sim.add("127.0.0.1", { name: "E2E <Stream> & Co", tags: ["e2e", ".hidden"], onlineLagMs: 5_000 });
    bot = await registerUser("sentrybot");
    user = await TestUser.create("streamfan");
    roomId = await user.createRoom([bot.user_id], "streams");
    const apiPort = await freePort();
    ({ dir, daemon } = await startTempDaemon(
      "botyard-owncast-e2e-",
      daemonConfigLines({
        database: "./host.db",
        port: apiPort,
        secret: "owncast-e2e-secret-0123456789abcdef",
        admins: { root: "owncast-e2e-password" },
        logging: { level: "info", console: "off" },
      }),
    ));
    expect(await addClient(daemon, clientRowFor(bot, HS_URL, { displayname: "Owncast Sentry" }))).toBe(true);
    await user.waitForJoin(roomId, bot.user_id);
    await daemon.registry.install(pluginBundle("owncast-sentry"), { allowOverride: true });
    const instanceConfig = [
      "poll_interval_seconds: 1",
      "min_notification_interval_seconds: 0",
      "http:",
      "  scheme: http",
      `  port: ${sim.port}`,
      "  allow_private_addresses: true",
      "webhook:",
      "  secrets:",
      `    "127.0.0.1": ${SECRET}`,
      "",
    ].join("\n");
    await daemon.supervisor.create({
      id: "sentry",
      type: "org.botyard.owncastsentry",
      enabled: true,
      primary_user: bot.user_id,
      config: instanceConfig,
      database_engine: "sqlite",
      isolated: false,
      state: "stopped",
      last_error: null,
    });
    await waitFor(() => daemon.supervisor.status("sentry").state === "running", 30_000, "the sentry instance to run");
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop();
    user?.stop();
    await sim.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("subscribes a room, then announces the stream going live as HTML that pings nobody", async () => {
    const cmd = await user.send(roomId, "!subscribe http://127.0.0.1/");
    const reply = await user.waitForEvent(isReplyTo(cmd), 30_000, "the !subscribe reply");
    expect(reply.content.body).toBe("Subscription added! This room will receive notifications when 127.0.0.1 goes live.");
    expect(reply.content.msgtype).toBe("m.notice");

    sim.get("127.0.0.1").goLive("Speedrun <any%> @room");
    const notice = await user.waitForEvent(
      (e) => e.room_id === roomId && e.sender === bot.user_id && String(e.content.body).startsWith("🎥"),
      30_000,
      "the go-live notice",
    );
    expect(notice.content.msgtype).toBe("m.text");
    expect(notice.content.body).toBe(
      `🎥 E2E <Stream> & Co is now live!\nStream Title: Speedrun <any%> @room\n\nTo tune in, visit: http://127.0.0.1:${sim.port}/\n\n#e2e`,
    );
    expect(notice.content.format).toBe("org.matrix.custom.html");
    const html = String(notice.content.formatted_body);
    expect(html).toContain("🎥 <b>E2E &lt;Stream&gt; &amp; Co</b> is now live!");
    expect(html).toContain("Speedrun &lt;any%&gt; @room");
    expect(html).toContain(`<a href="http://127.0.0.1:${sim.port}/">`);
    expect(notice.content["m.mentions"]).toEqual({});
  });

  it("shows the webhook URL, refuses an unsigned delivery and announces a signed title update at once", async () => {
    const cmd = await user.send(roomId, "!subscriptions");
    const reply = await user.waitForEvent(isReplyTo(cmd), 30_000, "the !subscriptions reply");
    const url = /Webhook URL: (\S+)/.exec(String(reply.content.body))?.[1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/_matrix\/maubot\/plugin\/sentry\/webhook\/[0-9a-f]{32}$/);

    // (The 1 s poll may see the new title first; either way the room gets exactly this notice.)
    const stream = sim.get("127.0.0.1").setTitle("Now with <b>bold</b> plans");
    const delivery = stream.webhook("STREAM_TITLE_UPDATED");
    expect(await sendWebhook(url!, delivery)).toBe(401);
    expect(await sendWebhook(url!, delivery, { badSignature: true })).toBe(401);
    expect(await sendWebhook(url!, delivery, { secret: SECRET })).toBe(200);
    const notice = await user.waitForEvent(
      (e) => e.room_id === roomId && e.sender === bot.user_id && String(e.content.body).startsWith("📝"),
      30_000,
      "the title-change notice",
    );
    expect(String(notice.content.body)).toContain("Stream Title: Now with <b>bold</b> plans");
    expect(String(notice.content.formatted_body)).toContain("Now with &lt;b&gt;bold&lt;/b&gt; plans");
  });
});
