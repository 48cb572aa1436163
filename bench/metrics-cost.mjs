// Bench: what metrics cost. Two daemons (`botyard start`, each in its own process), the same but
// for `metrics.enabled`, each with one bot account on the test Synapse, one echo instance
// answering `!ping`, and 100 more echo instances on a bot account that does not sync. Prints figures, asserts nothing:
//   - `!ping` round trips, interleaved between the two (p50/p95), metrics on vs off;
//   - GET /instances throughput (autocannon, 10 connections, 5 s), alternating off/on twice;
//   - one scrape of /metrics (its size and time).
//   node bench/metrics-cost.mjs [rounds]      (build first; needs the test Synapse, see README)
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { HS, bareClient, fmt, interleavedRounds, pinger, root, sleep, support, waitJoined } from "./support/matrix.mjs";

const ROUNDS = Number(process.argv[2] ?? 100);
const SECRET = "bench-metrics-secret-0123456789";
const echo = readdirSync(join(root, "build/plugins")).find((n) => /^echo-v.+\.mbp$/.test(n));
if (!echo) {
  console.error("bench/metrics-cost.mjs: build first (npm run build)");
  process.exit(1);
}
const { HostStore } = await import(join(root, "packages/host/dist/store/host-store.js"));

const user = await support.registerUser("benchmuser", HS);
const userClient = await bareClient(user);
const ping = pinger(userClient);

async function daemon(metrics) {
  const bot = await support.registerUser(`benchm${metrics ? "on" : "off"}`, HS);
  const roomId = (await userClient.createRoom({ invite: [bot.user_id], preset: "private_chat" })).room_id;
  const dir = mkdtempSync(join(tmpdir(), "botyard-bench-metrics-"));
  mkdirSync(join(dir, "plugins"));
  copyFileSync(join(root, "build/plugins", echo), join(dir, "plugins/echo.mbp"));
  const port = 29400 + (metrics ? 1 : 0) + Math.floor(Math.random() * 500) * 2;
  writeFileSync(
    join(dir, "config.yaml"),
    ["database: ./host.db", "server:", `  port: ${port}`, "  unshared_secret: bench-secret-0123456789abcdef", "admins:", "  root: ''", "logging:", "  level: warn", "  console: off",
      "metrics:", `  enabled: ${metrics}`, `  secret: ${SECRET}`, ""].join("\n"),
  );
  const store = HostStore.open(join(dir, "host.db"));
  store.putClient(support.clientRowFor(bot, HS));
  // The 100 extra instances run on a bot account that does not sync: they fill GET /instances
  // and the worker without answering the pings.
  const idle = "@benchidle:localhost";
  store.putClient({ ...support.clientRowFor(bot, HS), id: idle, enabled: false });
  for (let i = 0; i <= 100; i++) {
    const primary = i === 0 ? bot.user_id : idle;
    store.putInstance({ id: i === 0 ? "echo1" : `extra${i}`, type: "org.botyard.echo", enabled: true, primary_user: primary, config: "", database_engine: "sqlite", isolated: false, state: "stopped", last_error: null });
  }
  store.close();
  const proc = spawn(process.execPath, [join(root, "packages/host/dist/main.js"), "start", "-c", join(dir, "config.yaml")], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
  await waitJoined(userClient, roomId, bot.user_id);
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      await ping(roomId, bot.user_id, 5_000);
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
  }
  return { metrics, proc, dir, port, roomId, bot };
}

function autocannon(url, headers) {
  return new Promise((resolveRun, reject) => {
    const script = `const a = (await import("autocannon")).default; const r = await a(${JSON.stringify({ url, headers, connections: 10, duration: 5 })}); process.stdout.write(JSON.stringify({ rps: r.requests.average, p99: r.latency.p99, non2xx: r.non2xx }));`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("close", () => resolveRun(JSON.parse(out)));
  });
}

async function token(port) {
  // Admins with an empty password cannot log in: issue a token the way the daemon would.
  const { TokenIssuer } = await import(join(root, "packages/host/dist/api/index.js"));
  void port;
  return new TokenIssuer("bench-secret-0123456789abcdef", 3600, () => true).issue("root");
}

const off = await daemon(false);
const on = await daemon(true);
const [pingOff, pingOn] = await interleavedRounds(ping, [off, on].map((d) => ({ roomId: d.roomId, from: d.bot.user_id })), ROUNDS);

const auth = { authorization: `Bearer ${await token()}` };
const listings = { false: [], true: [] };
for (const d of [off, on, off, on]) listings[d.metrics].push(await autocannon(`http://127.0.0.1:${d.port}/_matrix/maubot/v1/instances`, auth));
const t0 = performance.now();
const scrape = await (await fetch(`http://127.0.0.1:${on.port}/metrics`, { headers: { authorization: `Bearer ${SECRET}` } })).text();
const scrapeMs = performance.now() - t0;

for (const d of [off, on]) {
  d.proc.kill("SIGTERM");
  await sleep(1_000);
  rmSync(d.dir, { recursive: true, force: true });
}
userClient.stopClient();

const avg = (rs, k) => rs.reduce((a, r) => a + r[k], 0) / rs.length;
console.log(`metrics-cost: load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}; 1 bot + 101 echo instances per daemon`);
console.log(`  !ping round trip (${ROUNDS} interleaved): metrics off p50 ${fmt(pingOff.p50)} ms p95 ${fmt(pingOff.p95)} ms; on p50 ${fmt(pingOn.p50)} ms p95 ${fmt(pingOn.p95)} ms; ratio on/off p50 ${(pingOn.p50 / pingOff.p50).toFixed(2)} p95 ${(pingOn.p95 / pingOff.p95).toFixed(2)}`);
console.log(`  GET /instances (10 connections, 2 x 5 s each): off ${fmt(avg(listings.false, "rps"))} req/s (p99 ${fmt(avg(listings.false, "p99"))} ms); on ${fmt(avg(listings.true, "rps"))} req/s (p99 ${fmt(avg(listings.true, "p99"))} ms); ratio on/off ${(avg(listings.true, "rps") / avg(listings.false, "rps")).toFixed(2)}`);
console.log(`  one scrape: ${scrape.length} bytes, ${scrape.split("\n").filter((l) => l && !l.startsWith("#")).length} samples, ${fmt(scrapeMs)} ms`);
process.exit(0);
