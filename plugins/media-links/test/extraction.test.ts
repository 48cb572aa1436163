// yt-dlp for real (Debian's package) against the local media server: what an extraction
// downloads, the size limit during the download (announced and unannounced sizes), the time
// limit, failures, and the private temporary folder gone after each of them.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EncryptedFile } from "@botyard/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectMediaType } from "../src/media-file.js";
import { fetchAndPost, type MediaSink } from "../src/media-poster.js";
import { extract, withTempFolder, ytDlpArgs } from "../src/yt-dlp.js";
import { MediaServer, makeFixtures } from "./media-server.js";

const tools = { ytDlpPath: "yt-dlp", ffmpegPath: "ffmpeg", ffprobePath: "ffprobe" };
const limits = { maxFileSize: 10_000_000, maxMediaPerLink: 10, timeoutMs: 60_000, captionMaxLength: 1000 };

/** What the host answers for media encrypted for an encrypted room (keys made up: nothing decrypts here). */
function encryptedFile(url: string): EncryptedFile {
  return {
    url,
    key: { kty: "oct", key_ops: ["encrypt", "decrypt"], alg: "A256CTR", k: "a2V5", ext: true },
    iv: "aXY",
    hashes: { sha256: "aGFzaA" },
    v: "v2",
  };
}

/** Records what would be uploaded and sent; checks each uploaded file exists at that moment. */
function recordingSink(encrypted = false) {
  const uploads: Array<{ path: string; contentType: string; filename: string; existed: boolean }> = [];
  const sent: Array<Record<string, unknown>> = [];
  const sink: MediaSink = {
    async uploadFile(_roomId, path, contentType, filename) {
      let existed = true;
      try {
        readdirSync(join(path, ".."));
      } catch {
        existed = false;
      }
      uploads.push({ path, contentType, filename, existed });
      const url = `mxc://test.local/${uploads.length}`;
      return encrypted ? { file: encryptedFile(url) } : { url };
    },
    async send(_roomId, content) {
      sent.push(content);
      return `$sent${sent.length}`;
    },
  };
  return { sink, uploads, sent };
}

describe("extraction with yt-dlp from a local server", { timeout: 120_000 }, () => {
  const fixtures = makeFixtures();
  const server = new MediaServer(fixtures.dir);
  let parent: string;
  const req = (url: string) => ({ roomId: "!room:test.local", eventId: "$link", url });

  beforeAll(async () => {
    await server.start();
    parent = mkdtempSync(join(tmpdir(), "media-links-test-"));
  });
  afterAll(async () => {
    await server.stop();
    fixtures.remove();
    rmSync(parent, { recursive: true, force: true });
  });

  it("never lets a link be read as an option, and asks for no update, config or cache", () => {
    const args = ytDlpArgs("--exec=rm -rf /", "/tmp/x", 1000, 3);
    expect(args.slice(-2)).toEqual(["--", "--exec=rm -rf /"]);
    expect(args).toEqual(expect.arrayContaining(["--ignore-config", "--no-update", "--no-cache-dir", "--max-filesize", "1000"]));
  });

  it("posts a video with its type, size, dimensions, duration and thumbnail, then the caption, and removes the folder", async () => {
    const { sink, uploads, sent } = recordingSink();
    const outcome = await fetchAndPost(sink, tools, limits, req(server.url("media", "clip.mp4")), undefined, parent);
    expect(outcome.kind).toBe("posted");
    const clip = fixtures.files.get("clip.mp4")!;
    expect(uploads.map((u) => [u.contentType, u.filename, u.existed])).toEqual([
      ["image/jpeg", "thumbnail.jpg", true],
      ["video/mp4", "media-1.mp4", true],
    ]);
    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatchObject({
      msgtype: "m.video",
      body: "media-1.mp4",
      url: "mxc://test.local/2",
      info: { mimetype: "video/mp4", size: clip.size, w: 320, h: 240, thumbnail_url: "mxc://test.local/1", thumbnail_info: { mimetype: "image/jpeg", w: 320, h: 240 } },
      "m.relates_to": { "m.in_reply_to": { event_id: "$link" } },
      "m.mentions": {},
    });
    const duration = (sent[0]!["info"] as { duration: number }).duration;
    expect(Math.abs(duration - 2000)).toBeLessThan(200);
    expect(sent[1]).toMatchObject({ msgtype: "m.notice", body: "clip\n320×240 · 0:02", "m.mentions": {} });
    expect(readdirSync(parent)).toEqual([]);
  });

  it("posts media encrypted for an encrypted room as file and thumbnail_file, never url", async () => {
    const { sink, sent } = recordingSink(true);
    const outcome = await fetchAndPost(sink, tools, limits, req(server.url("media", "clip.mp4")), undefined, parent);
    expect(outcome.kind).toBe("posted");
    expect(sent[0]).toMatchObject({ msgtype: "m.video", file: encryptedFile("mxc://test.local/2"), info: { thumbnail_file: encryptedFile("mxc://test.local/1") } });
    expect(sent[0]).not.toHaveProperty("url");
    expect(sent[0]!["info"]).not.toHaveProperty("thumbnail_url");
  });

  it("posts every medium of a post in order, then one caption", async () => {
    const { sink, uploads, sent } = recordingSink();
    const outcome = await fetchAndPost(sink, tools, limits, req(server.url("post", "clip.mp4,clip-b.mp4")), undefined, parent);
    expect(outcome.kind).toBe("posted");
    expect(uploads.filter((u) => u.contentType === "video/mp4").map((u) => u.filename)).toEqual(["media-1.mp4", "media-2.mp4"]);
    expect(sent.map((c) => [c["msgtype"], (c["info"] as { w?: number } | undefined)?.w])).toEqual([
      ["m.video", 320],
      ["m.video", 160],
      ["m.notice", undefined],
    ]);
    expect(String(sent[2]!["body"])).toMatch(/^A post/);
    expect(readdirSync(parent)).toEqual([]);
  });

  it("takes the type from the bytes: a PNG named .jpg is posted as image/png", async () => {
    const { sink, uploads, sent } = recordingSink();
    const outcome = await fetchAndPost(sink, tools, limits, req(server.url("media", "photo-really-png.jpg")), undefined, parent);
    expect(outcome.kind).toBe("posted");
    expect(uploads.map((u) => [u.contentType, u.filename])).toEqual([["image/png", "media-1.png"]]);
    expect(sent[0]).toMatchObject({ msgtype: "m.image", info: { mimetype: "image/png", w: 64, h: 48 } });
    expect(await detectMediaType(fixtures.files.get("photo.jpg")!.path)).toEqual({ mimetype: "image/jpeg", ext: "jpg", msgtype: "m.image" });
    expect(readdirSync(parent)).toEqual([]);
  });

  it("refuses a file over max_file_size whose size the server announces, before posting anything", async () => {
    const { sink, uploads, sent } = recordingSink();
    const small = { ...limits, maxFileSize: 10_000 };
    expect(await fetchAndPost(sink, tools, small, req(server.url("media", "clip.mp4")), undefined, parent)).toEqual({ kind: "too_large" });
    expect([uploads.length, sent.length]).toEqual([0, 0]);
    expect(readdirSync(parent)).toEqual([]);
  });

  it("stops a download over max_file_size whose size is not announced, while it runs", async () => {
    // 1000 copies of the clip (about 32 MB) without Content-Length; the limit is 100 kB.
    const dir = mkdtempSync(join(parent, "watch-"));
    const outcome = await extract({
      ytDlpPath: "yt-dlp",
      url: `${server.url("chunked", "clip.mp4")}?repeat=1000`,
      dir,
      maxFileSize: 100_000,
      maxItems: 1,
      timeoutMs: 60_000,
      watchIntervalMs: 20,
    });
    expect(outcome).toEqual({ kind: "too_large" });
    // Stopped early: no response was sent whole (socket buffers hold a few MB at most).
    const whole = 1000 * fixtures.files.get("clip.mp4")!.size;
    expect(server.chunkedBytes.length).toBeGreaterThan(0);
    expect(Math.max(...server.chunkedBytes)).toBeLessThan(whole / 2);
    rmSync(dir, { recursive: true, force: true });
  });

  it("stops an extraction at the time limit and removes its folder", async () => {
    const { sink, sent } = recordingSink();
    const outcome = await fetchAndPost(sink, tools, { ...limits, timeoutMs: 1500 }, req(server.url("slow", "clip.mp4")), undefined, parent);
    expect(outcome).toEqual({ kind: "timeout" });
    expect(sent).toEqual([]);
    expect(readdirSync(parent)).toEqual([]);
  });

  it("reports yt-dlp's reason when a link fails, and removes the folder", async () => {
    const { sink } = recordingSink();
    const outcome = await fetchAndPost(sink, tools, limits, req(server.url("missing", "clip.mp4")), undefined, parent);
    expect(outcome.kind).toBe("failed");
    expect(outcome.kind === "failed" && outcome.reason).toMatch(/404/);
    expect(readdirSync(parent)).toEqual([]);
  });

  it("removes the folder when the work inside it throws", async () => {
    await expect(
      withTempFolder(async (dir) => {
        expect(readdirSync(parent)).toHaveLength(1);
        expect(dir.startsWith(parent)).toBe(true);
        throw new Error("upload failed");
      }, parent),
    ).rejects.toThrow("upload failed");
    expect(readdirSync(parent)).toEqual([]);
  });

  it("stops yt-dlp when the instance stops (abort) and removes the folder", async () => {
    const { sink } = recordingSink();
    const abort = new AbortController();
    const running = fetchAndPost(sink, tools, limits, req(server.url("slow", "clip.mp4")), abort.signal, parent);
    setTimeout(() => abort.abort(), 500);
    expect(await running).toEqual({ kind: "aborted" });
    expect(readdirSync(parent)).toEqual([]);
  });
});
