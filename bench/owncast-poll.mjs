#!/usr/bin/env node
// Owncast Sentry poll bench (prints figures, asserts nothing): 10,000 subscribed streams served by
// one simulated Owncast on loopback (a child process, so its CPU is not counted), names mapped to
// 127.0.0.1 by a test resolver. Measures one steady poll cycle: wall time, CPU time, memory added,
// and open sockets (from /proc/self/fd). Re-runs itself under `ulimit -n 1024` to show the pool
// stays bounded. Runs twice, each in a fresh process: with the monitor on the main thread, and
// inside a worker_thread with the resourceLimits the host gives plugin workers
// (OWNCAST_BENCH_OLD_MB, default 256; OWNCAST_BENCH_YOUNG_MB, default V8's), where RSS and CPU
// are still the whole process's. OWNCAST_BENCH_MODE=main|worker runs one of them.
// OWNCAST_BENCH_HTTP=undici-request|undici-dispatch puts undici in place of the plugin's plain-HTTP
// client (bench/owncast-undici-pool.ts), for the comparison in the plugin's README.
// Usage: node bench/owncast-poll.mjs [streams]

import { spawn, spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import { isMainThread, Worker, workerData } from "node:worker_threads";
import { mkdtempSync, readdirSync, readlinkSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const STREAMS = Number(process.argv[2] ?? 10_000);
const mb = (b) => (b / 1024 / 1024).toFixed(1);

if (isMainThread && !process.env.OWNCAST_BENCH_LIMITED) {
  // `ulimit -n 1024`: the original needed one descriptor per stream and failed here.
  let status = 0;
  // The worker run uses the Node flags `botyard start` runs with (packages/host/src/runtime-flags.ts),
  // so its figures are the plugin's as it runs inside the daemon.
  const { HOST_NODE_FLAGS } = await import(pathToFileURL(join(root, "packages/host/dist/runtime-flags.js")).href);
  for (const mode of process.env.OWNCAST_BENCH_MODE ? [process.env.OWNCAST_BENCH_MODE] : ["main", "worker"]) {
    const flags = mode === "worker" ? HOST_NODE_FLAGS.join(" ") : "";
    if (flags) console.log(`(worker run with the daemon's Node flags: ${flags})`);
    const r = spawnSync("sh", ["-c", `ulimit -n 1024 && exec "${process.execPath}" --expose-gc ${flags} "${fileURLToPath(import.meta.url)}" ${STREAMS}`], {
      stdio: "inherit",
      env: { ...process.env, OWNCAST_BENCH_LIMITED: "1", OWNCAST_BENCH_MODE: mode },
    });
    status ||= r.status ?? 1;
  }
  process.exit(status);
}

if (!isMainThread) {
  await runBench(workerData.work, workerData.port, workerData.simPid, workerData.label);
} else {

const work = mkdtempSync(join(tmpdir(), "owncast-bench-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

// Bundle the plugin's modules and the simulator (TypeScript) for plain Node.
writeFileSync(
  join(work, "entry.ts"),
  `export { StreamMonitor } from "${root}/plugins/owncast-sentry/src/stream-monitor.ts";
   export { OwncastHttpClient } from "${root}/plugins/owncast-sentry/src/owncast-http.ts";
   export { SentryStore, MIGRATIONS } from "${root}/plugins/owncast-sentry/src/store.ts";
   export { parseSettings } from "${root}/plugins/owncast-sentry/src/settings.ts";
   export { runMigrations } from "${root}/packages/sdk/src/migrations.ts";`,
);
writeFileSync(
  join(work, "sim-main.ts"),
  `import { OwncastSim } from "${root}/test/owncast/sim.ts";
   const sim = await new OwncastSim({ autoCreate: { name: "Bench", title: "steady title", tags: ["bench", "loopback"] } }).start();
   process.send!({ port: sim.port });
   process.on("message", (m: string) => { if (m === "stats") process.send!({ requests: sim.totalRequests, connections: sim.openConnections }); });
   process.on("disconnect", () => process.exit(0));`,
);
const httpVariant = process.env.OWNCAST_BENCH_HTTP ?? "plain";
if (!["plain", "undici-request", "undici-dispatch"].includes(httpVariant)) throw new Error(`OWNCAST_BENCH_HTTP=${httpVariant}: use plain, undici-request or undici-dispatch`);
/** The plugin's `./plain-http.js` resolved to the undici stand-in (same exports). */
const undiciInPlace = {
  name: "undici-in-place",
  setup(b) {
    b.onResolve({ filter: /\/plain-http\.js$/ }, (args) =>
      args.importer.includes("owncast-sentry") ? { path: join(root, "bench/owncast-undici-pool.ts") } : undefined,
    );
  },
};
await build({
  entryPoints: [join(work, "entry.ts"), join(work, "sim-main.ts")],
  plugins: httpVariant === "plain" ? [] : [undiciInPlace],
  outdir: work,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  logLevel: "error",
  // CommonJS dependencies (undici) call require(); give the ESM bundle one, as botyard-cli build does.
  banner: { js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);' },
});

const sim = spawn(process.execPath, [join(work, "sim-main.js")], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
const port = await new Promise((resolve) => sim.once("message", (m) => resolve(m.port)));
const simStats = () => new Promise((resolve) => { sim.once("message", resolve); sim.send("stats"); });
const load = loadavg().map((l) => l.toFixed(2)).join(" ");
if (process.env.OWNCAST_BENCH_MODE === "worker") {
  const resourceLimits = { maxOldGenerationSizeMb: Number(process.env.OWNCAST_BENCH_OLD_MB ?? 256) };
  if (process.env.OWNCAST_BENCH_YOUNG_MB) resourceLimits.maxYoungGenerationSizeMb = Number(process.env.OWNCAST_BENCH_YOUNG_MB);
  const label = `in a worker, resourceLimits ${JSON.stringify(resourceLimits)}`;
  const w = new Worker(fileURLToPath(import.meta.url), { workerData: { work, port, simPid: sim.pid, label }, resourceLimits });
  await new Promise((resolve, reject) => { w.once("exit", resolve); w.once("error", reject); });
} else {
  await runBench(work, port, sim.pid, "on the main thread");
}
const { requests } = await simStats();
console.log(`simulator: ${requests} requests served; load average before the run ${load}`);
sim.disconnect();
}

async function runBench(work, port, simPid, label) {
const { createRequire } = await import("node:module");
const Database = createRequire(join(root, "packages/host/package.json"))("better-sqlite3");
const { StreamMonitor, OwncastHttpClient, SentryStore, MIGRATIONS, parseSettings, runMigrations } = await import(pathToFileURL(join(work, "entry.js")).href);

function openSockets() {
  let n = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith("socket:")) n++;
    } catch {}
  }
  return n;
}
const fdLimit = /Max open files\s+(\d+)/.exec(readFileSync("/proc/self/limits", "utf8"))?.[1];
/**
 * Resident anonymous memory by kind: small mappings are mostly V8 heap pages (256 KiB each),
 * [heap] and large ones are malloc's (Buffers, SQLite, V8's non-heap memory).
 */
function anonMemory() {
  const kb = { small: 0, large: 0, brk: 0 };
  let kind = null;
  for (const line of readFileSync("/proc/self/smaps", "utf8").split("\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) {
      const size = parseInt(m[2], 16) - parseInt(m[1], 16);
      kind = m[3] === "[heap]" ? "brk" : m[3] !== "" ? null : size < 1024 * 1024 ? "small" : "large";
    } else if (kind !== null && line.startsWith("Rss:")) {
      kb[kind] += Number(line.split(/\s+/)[1]);
    }
  }
  const f = (k) => (k / 1024).toFixed(1);
  return `resident anonymous: small mappings (V8 pages) ${f(kb.small)} MB, large mappings ${f(kb.large)} MB, malloc [heap] ${f(kb.brk)} MB`;
}

/** The simulator's CPU seconds so far (it shares the machine: when it is busy, wall time waits on it). */
const simCpu = () => {
  const f = readFileSync(`/proc/${simPid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
};

const db = new Database(join(work, "instance.db"));
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL"); // as the host opens instance databases (worker-entry.ts)
runMigrations(db, MIGRATIONS);
global.gc?.();
const baseline = process.memoryUsage();
const baseSockets = openSockets();

const settings = parseSettings({ http: { scheme: "http", port, allow_private_addresses: true, ...(process.env.OWNCAST_BENCH_CONCURRENCY ? { concurrency: Number(process.env.OWNCAST_BENCH_CONCURRENCY) } : {}) } });
const store = new SentryStore(db);
const insert = db.transaction(() => {
  for (let i = 0; i < STREAMS; i++) store.subscribe(`stream${i}.bench.example`, `!room${i % 500}:bench.example`);
});
insert();
if (process.env.OWNCAST_BENCH_MEMORY) {
  global.gc?.();
  const m = process.memoryUsage();
  console.log(`baseline rss ${mb(baseline.rss)} heapTotal ${mb(baseline.heapTotal)}; after subscribing rss ${mb(m.rss)} heapTotal ${mb(m.heapTotal)}; ${anonMemory()}`);
}
const fetcher = new OwncastHttpClient(settings.http, async () => [{ address: "127.0.0.1", family: 4 }]);
let sent = 0;
const silent = { trace() {}, debug() {}, info() {}, warn() {}, error(m) { console.error(m); } };
const monitor = new StreamMonitor({
  store, fetcher, settings, log: silent,
  sink: { send: async () => void sent++, upload: async () => "mxc://bench/x" },
});

async function measure(label) {
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, openSockets())), 100);
  const changes0 = db.prepare("SELECT total_changes() AS n").get().n;
  const cpu0 = process.cpuUsage();
  const sim0 = simCpu();
  const t0 = performance.now();
  const stats = await monitor.pollAll();
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const simSpent = simCpu() - sim0;
  const rowsWritten = db.prepare("SELECT total_changes() AS n").get().n - changes0;
  clearInterval(sampler);
  peak = Math.max(peak, openSockets());
  if (process.env.OWNCAST_BENCH_MEMORY) {
    global.gc?.();
    const m = process.memoryUsage();
    const v8 = await import("node:v8");
    console.log("  spaces:", v8.getHeapSpaceStatistics().map((x) => `${x.space_name.replace("_space", "")} ${mb(x.space_size)}/${mb(x.space_used_size)}`).join(", "));
    console.log(`  ${anonMemory()}`);
    console.log(`  memory: rss ${mb(m.rss)} heapTotal ${mb(m.heapTotal)} heapUsed ${mb(m.heapUsed)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)}`);
  }
  console.log(
    `${label.padEnd(22)} wall ${wall.toFixed(2)} s  cpu ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s ` +
      `(user ${(cpu.user / 1e6).toFixed(2)}, sys ${(cpu.system / 1e6).toFixed(2)})  ` +
      `queried ${stats.queried} failed ${stats.failed} notices ${stats.notices}  sockets peak ${peak - baseSockets}  rows written ${rowsWritten}  simulator cpu ${simSpent.toFixed(2)} s`,
  );
  return { wall, cpu: (cpu.user + cpu.system) / 1e6 };
}

console.log(`owncast-poll bench ${label}: ${STREAMS} streams, descriptor limit ${fdLimit}, concurrency ${settings.http.concurrency}, max_sockets ${settings.http.maxSockets}, plain-HTTP client ${process.env.OWNCAST_BENCH_HTTP ?? "plain"}`);
await measure("first cycle (silent)");
const steady = [];
// OWNCAST_BENCH_PROFILE=<file>: a CPU profile of the first steady cycle (for chrome://inspect).
const profilePath = process.env.OWNCAST_BENCH_PROFILE;
let session;
if (profilePath) {
  const { Session } = await import("node:inspector/promises");
  session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  await session.post("HeapProfiler.enable");
  await session.post("HeapProfiler.startSampling", { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
}
for (let i = 1; i <= 3; i++) {
  steady.push(await measure(`steady cycle ${i}`));
  if (session && i === 1) {
    const { profile } = await session.post("Profiler.stop");
    writeFileSync(profilePath, JSON.stringify(profile));
    const heap = await session.post("HeapProfiler.stopSampling");
    writeFileSync(profilePath.replace(/(\.cpuprofile)?$/, ".heapprofile"), JSON.stringify(heap.profile));
    session.disconnect();
  }
}
global.gc?.();
const after = process.memoryUsage();
const { getHeapSpaceStatistics } = await import("node:v8");
const young = getHeapSpaceStatistics().filter((x) => x.space_name === "new_space" || x.space_name === "new_large_object_space").reduce((n, x) => n + x.space_size, 0);
console.log(`memory added: rss +${mb(after.rss - baseline.rss)} MB, heap +${mb(after.heapUsed - baseline.heapUsed)} MB (includes the 10,000 rows in SQLite's cache); V8 young generation committed ${mb(young)} MB (empty after GC)`);
console.log(`open sockets now: ${openSockets() - baseSockets}; notices sent ${sent}`);
const best = steady.reduce((a, b) => (a.wall < b.wall ? a : b));
console.log(`steady cycle (best of 3): ${best.wall.toFixed(2)} s wall, ${best.cpu.toFixed(2)} CPU-s`);
fetcher.close();
db.close();
}
