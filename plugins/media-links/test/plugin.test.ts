// The plugin driven through its runtime methods with the SDK's test context (Matrix calls
// recorded), yt-dlp for real against the local media server: links to posts, the rate limits
// told once, the cache, oversize refusals, failures logged WARN then ERROR, the start check.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestContext, textMessage, type TestContext } from "@botyard/sdk/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MediaLinks } from "../src/plugin.js";
import { MediaServer, makeFixtures } from "./media-server.js";

class TestMediaLinks extends MediaLinks {
  constructor(parent: string) {
    super();
    this.tempParent = parent;
  }
}

// yt-dlp takes a few seconds to start on a busy machine; some tests run it three times.
describe("the media links plugin", { timeout: 120_000 }, () => {
  const fixtures = makeFixtures();
  const server = new MediaServer(fixtures.dir);
  let parent: string;
  const running: TestMediaLinks[] = [];

  beforeAll(async () => {
    await server.start();
    parent = mkdtempSync(join(tmpdir(), "media-links-plugin-"));
  });
  afterEach(async () => {
    for (const p of running.splice(0)) await p.__botyardStop();
    expect(readdirSync(parent)).toEqual([]);
  });
  afterAll(async () => {
    await server.stop();
    fixtures.remove();
    rmSync(parent, { recursive: true, force: true });
  });

  async function started(config: Record<string, unknown> = {}): Promise<{ plugin: TestMediaLinks; test: TestContext }> {
    const test = createTestContext({
      userId: "@media:test.local",
      config: {
        url_patterns: [String.raw`http://127\.0\.0\.1:\d+/(?:media|missing|slow)/\S+`],
        ...config,
        rate_limiting: { min_delay_seconds: 0, backoff_seconds: 0, ...(config["rate_limiting"] as object | undefined) },
      },
    });
    const plugin = new TestMediaLinks(parent);
    await plugin.__botyardStart(test.ctx);
    running.push(plugin);
    return { plugin, test };
  }

  const media = (test: TestContext) => test.callsOf("sendEvent").filter((c) => c.content["url"] !== undefined);
  const notices = (test: TestContext) => test.callsOf("sendText").map((c) => c.text);

  it("fails to start, saying what to install, when yt-dlp is missing", async () => {
    const test = createTestContext({ config: { yt_dlp_path: join(parent, "no-such-yt-dlp") } });
    const plugin = new TestMediaLinks(parent);
    await expect(plugin.__botyardStart(test.ctx)).rejects.toThrow(/yt-dlp was not found.*apt-get install yt-dlp.*yt_dlp_path/);
    await plugin.__botyardStop();
  });

  it("posts the video of a link as a reply to its message, then one caption, from the files on disk", async () => {
    const { plugin, test } = await started();
    const link = textMessage(`look at this ${server.url("media", "clip.mp4")} !`);
    await plugin.__botyardEvent(link);
    await plugin.idle();
    const uploads = test.callsOf("uploadMediaFile");
    expect(uploads.map((u) => u.contentType)).toEqual(["image/jpeg", "video/mp4"]);
    const sends = test.callsOf("sendEvent");
    expect(sends).toHaveLength(2);
    expect(sends[0]!.content).toMatchObject({
      msgtype: "m.video",
      info: { mimetype: "video/mp4", size: fixtures.files.get("clip.mp4")!.size, w: 320, h: 240 },
      "m.relates_to": { "m.in_reply_to": { event_id: link.event_id } },
    });
    expect(sends[1]!.content).toMatchObject({ msgtype: "m.notice", body: "clip\n320×240 · 0:02", "m.mentions": {} });
  });

  it("ignores links in the bot's own messages, edits and quotes, and rooms it is not subscribed to", async () => {
    const { plugin, test } = await started({ room_subscriptions: ["!room:test.local"] });
    const url = server.url("media", "photo.jpg");
    await plugin.__botyardEvent(textMessage(url, { sender: "@media:test.local" }));
    await plugin.__botyardEvent(textMessage(`> <@bob:test.local> ${url}\n\nha`));
    const edit = textMessage(`* ${url}`);
    edit.content["m.relates_to"] = { rel_type: "m.replace", event_id: "$x" };
    await plugin.__botyardEvent(edit);
    await plugin.__botyardEvent(textMessage(url, { room_id: "!other:test.local" }));
    await plugin.idle();
    expect(test.calls).toEqual([]);
    expect(server.requestsFor("media", "photo.jpg")).toBe(0);
  });

  it("fetches on !media only when auto_fetch is off, and only links of url_patterns", async () => {
    const { plugin, test } = await started({ auto_fetch: false });
    await plugin.__botyardEvent(textMessage(server.url("media", "photo.jpg")));
    await plugin.idle();
    expect(test.calls).toEqual([]);
    await plugin.__botyardEvent(textMessage("!media https://example.org/cat.jpg"));
    expect(notices(test)).toEqual(["That is not a link I fetch media from (see url_patterns in my settings)."]);
    await plugin.__botyardEvent(textMessage(`!media ${server.url("media", "photo.jpg")}`));
    await plugin.idle();
    expect(media(test).map((c) => c.content["msgtype"])).toEqual(["m.image"]);
  });

  it("answers a link posted again from the cache, without fetching it again", async () => {
    const { plugin, test } = await started({ cache_ttl: 600 });
    const before = server.requestsFor("media", "photo-really-png.jpg");
    await plugin.__botyardEvent(textMessage(server.url("media", "photo-really-png.jpg")));
    await plugin.idle();
    const fetched = server.requestsFor("media", "photo-really-png.jpg");
    expect(fetched).toBeGreaterThan(before);
    await plugin.__botyardEvent(textMessage(`${server.url("media", "photo-really-png.jpg")}?utm=again`));
    await plugin.idle();
    expect(server.requestsFor("media", "photo-really-png.jpg")).toBe(fetched);
    const posted = media(test);
    expect(posted).toHaveLength(2);
    expect(posted[1]!.content["url"]).toBe(posted[0]!.content["url"]);
    expect(test.callsOf("uploadMediaFile")).toHaveLength(1);
  });

  it("lets a burst of links through as configured and tells the room once about the rest", async () => {
    const { plugin, test } = await started({ rate_limiting: { room_burst_size: 2, room_max_requests_per_minute: 1 } });
    for (let i = 0; i < 5; i++) await plugin.__botyardEvent(textMessage(`${server.url("media", "photo.jpg")}?n=${i}`));
    await plugin.idle();
    expect(media(test)).toHaveLength(2);
    expect(notices(test)).toEqual(["Too many links here: I fetch at most 1 per minute in a room (2 at once). I skip links until then."]);
    // Another room has its own limit.
    await plugin.__botyardEvent(textMessage(`${server.url("media", "photo.jpg")}?n=other`, { room_id: "!other:test.local" }));
    await plugin.idle();
    expect(media(test)).toHaveLength(3);
  });

  it("refuses a file over max_file_size with a message", async () => {
    const { plugin, test } = await started({ max_file_size: 10_000 });
    const link = textMessage(server.url("media", "clip.mp4"));
    await plugin.__botyardEvent(link);
    await plugin.idle();
    expect(media(test)).toEqual([]);
    expect(test.callsOf("sendText")).toMatchObject([{ text: "That media is larger than 10 kB, the most I post; not posted.", replyTo: link.event_id }]);
  });

  it("logs failed extractions at WARN, then at ERROR once they repeat, and says so in the room", async () => {
    const { plugin, test } = await started({ error_after_failures: 2 });
    for (let i = 0; i < 3; i++) await plugin.__botyardEvent(textMessage(`${server.url("missing", "clip.mp4")}?n=${i}`));
    await plugin.idle();
    const failures = test.logs.filter((l) => l.msg.startsWith("extraction of"));
    expect(failures.map((l) => l.level)).toEqual(["warn", "error", "error"]);
    expect(failures[2]!.msg).toMatch(/3 in a row/);
    expect(notices(test)).toEqual(Array(3).fill("I could not fetch the media of that link."));
  });
});
