// Bench: media links, from a link posted to the video in the room. Prints figures, asserts nothing.
//   npm run build && node bench/media-links.mjs [rounds]      (needs yt-dlp, ffmpeg and the test Synapse)
// A ~5 MB MP4 (made with ffmpeg) is served from 127.0.0.1; the daemon runs as `botyard start` in its
// own process with one bot account and one media-links instance. Each round a user posts a new
// link to it and waits until its own sync shows the m.video reply; meanwhile the daemon's RSS
// (host + the plugin's worker thread; yt-dlp, ffprobe and ffmpeg are child processes and not in
// it) is sampled every 20 ms. Printed: the time per round and the daemon's RSS before and at its
// peak, against the file's size: a worker that held the file (and the host a clone of it) would
// add at least twice the file.
// Homeserver: BOTYARD_TEST_HS (default http://127.0.0.1:8008), shared secret from synapse.sh.
import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleTs } from "./support/bundle-ts.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ROUNDS = Number(process.argv[2] ?? 3);
const VIDEO_BYTES = 5_000_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes) => (bytes / 1e6).toFixed(1);

for (const tool of ["yt-dlp", "ffmpeg"]) {
  try {
    execFileSync(tool, [tool === "yt-dlp" ? "--version" : "-version"], { stdio: "ignore" });
  } catch {
    console.log(`media-links bench skipped: ${tool} is not installed (apt-get install yt-dlp ffmpeg)`);
    process.exit(0);
  }
}

// The e2e tests' Synapse helpers (bench/support/matrix.mjs) and the media server, bundled for
// plain Node; packages stay external, so the bundle goes under node_modules/.cache where they resolve.
const { HS, support } = await import("./support/matrix.mjs");
const { TestUser, clientRowFor, registerUser } = support;
const cache = join(root, "node_modules/.cache");
mkdirSync(cache, { recursive: true });
const supportDir = mkdtempSync(join(cache, "botyard-media-bench-"));
const work = mkdtempSync(join(tmpdir(), "botyard-media-bench-"));
process.on("exit", () => {
  rmSync(supportDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});
const { MediaServer, makeFixtures } = await bundleTs(join(root, "plugins/media-links/test/media-server.ts"), join(supportDir, "media-server.mjs"));

const fixtures = makeFixtures({ bigVideoBytes: VIDEO_BYTES });
const big = fixtures.files.get("big.mp4");
const server = await new MediaServer(fixtures.dir).start();

const bot = await registerUser("benchmedia", HS);
const user = await TestUser.create("benchposter", HS);
const roomId = await user.createRoom([bot.user_id], "media bench");

// The daemon's folder: config, the bundle to load, the host db seeded with the client and instance.
const mbp = () => readdirSync(join(root, "build/plugins")).find((n) => /^media-links-v.+\.mbp$/.test(n));
if (!existsSync(join(root, "build/plugins")) || !mbp()) execFileSync(process.execPath, [join(root, "scripts/build-plugins.mjs"), "media-links"], { stdio: "inherit" });
mkdirSync(join(work, "plugins"));
copyFileSync(join(root, "build/plugins", mbp()), join(work, "plugins/media-links.mbp"));
const configPath = join(work, "config.yaml");
writeFileSync(
  configPath,
  ["database: ./host.db", "server:", "  port: 0", "  unshared_secret: media-bench-secret-0123456789abcdef", "admins:", "  root: bench-password", "logging:", "  level: warn", "  console: json", ""].join("\n"),
);
const { HostStore } = await import(join(root, "packages/host/dist/store/host-store.js"));
const store = HostStore.open(join(work, "host.db"));
store.putClient(clientRowFor(bot, HS));
store.putInstance({
  id: "media",
  type: "org.botyard.medialinks",
  enabled: true,
  primary_user: bot.user_id,
  config: ["url_patterns:", String.raw`  - 'http://127\.0\.0\.1:\d+/media/\S+'`, "rate_limiting:", "  enabled: false", "  min_delay_seconds: 0", ""].join("\n"),
  database_engine: null,
  isolated: false,
  state: "stopped",
  last_error: null,
});
store.close();

const host = spawn(process.execPath, [join(root, "packages/host/dist/main.js"), "start", "-c", configPath], { cwd: work, stdio: ["ignore", "inherit", "inherit"] });
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${host.pid}/status`, "utf8"))[1]) * 1024;
const isVideoReplyTo = (eventId) => (e) =>
  e.sender === bot.user_id && e.content["m.relates_to"]?.["m.in_reply_to"]?.event_id === eventId && typeof e.content.url === "string";

try {
  await user.waitForJoin(roomId, bot.user_id, 60_000);
  // Warm-up, and the instance is running once this is answered (a link posted while it still
  // starts is backlog and never reaches it): a small clip, posted again until answered.
  for (let attempt = 1; ; attempt++) {
    const warm = await user.send(roomId, `${server.url("media", "clip.mp4")}?warm=${attempt}`);
    try {
      await user.waitForEvent(isVideoReplyTo(warm), 30_000, "the warm-up clip");
      break;
    } catch (err) {
      if (attempt >= 6) throw err;
    }
  }
  await sleep(1000);

  const rounds = [];
  for (let i = 0; i < ROUNDS; i++) {
    const before = rss();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rss())), 20);
    const t0 = performance.now();
    const link = await user.send(roomId, `${server.url("media", "big.mp4")}?round=${i}`);
    const video = await user.waitForEvent(isVideoReplyTo(link), 120_000, `round ${i}'s video`);
    const ms = performance.now() - t0;
    clearInterval(sampler);
    rounds.push({ ms, before, peak, size: video.content.info.size });
    await sleep(500);
  }
  const times = rounds.map((r) => r.ms).sort((a, b) => a - b);
  console.log(`media-links: a ${mb(big.size)} MB MP4 (1280×720, 10 s) from 127.0.0.1, posted as a link; daemon \`botyard start\` + Synapse at ${HS}; load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  for (const [i, r] of rounds.entries()) {
    console.log(
      `  round ${i + 1}: link → m.video in the room ${(r.ms / 1000).toFixed(2)} s; daemon RSS ${mb(r.before)} MB before, peak ${mb(r.peak)} MB (+${mb(r.peak - r.before)} MB; the file is ${mb(r.size)} MB)`,
    );
  }
  console.log(`  median ${(times[Math.floor(times.length / 2)] / 1000).toFixed(2)} s over ${rounds.length} rounds (yt-dlp start, download, ffprobe, thumbnail, upload from disk, send)`);
} finally {
  host.kill("SIGTERM");
  await Promise.race([new Promise((r) => host.once("exit", r)), sleep(10_000)]);
  user.stop();
  await server.stop();
  fixtures.remove();
}
process.exit(0);
