// Bench: what the worker limits cost. Prints figures, asserts nothing.
//   node bench/worker-limits.mjs            (build first: npx tsc -b packages/host)
// Figures: the round trip of one main-thread memory measurement (worker.getHeapStatistics(),
// what the memory watch runs every second per worker), with the worker idle and with it
// spinning in a loop; and a 16 MiB plugin web answer streamed through the host: time, and the
// most ArrayBuffer memory the main thread held at once while passing it on.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import v8 from "node:v8";
import { Worker } from "node:worker_threads";

const { createHost, benchConfig, benchClientRow, AdmZip, YAML, pino } = await import("./support/host-dist.mjs");

const MiB = 1024 * 1024;
const fmt = (n, d = 2) => n.toFixed(d);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// 1. One measurement's round trip.
for (const mode of ["idle", "spinning"]) {
  const worker = new Worker(
    `const { parentPort } = require("node:worker_threads");
     parentPort.on("message", () => { const end = Date.now() + 3000; while (Date.now() < end) {} });`,
    { eval: true },
  );
  await new Promise((r) => worker.once("online", r));
  if (mode === "spinning") worker.postMessage("spin");
  const times = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    await worker.getHeapStatistics();
    times.push(performance.now() - t0);
  }
  console.log(`worker.getHeapStatistics() round trip, worker ${mode}: median ${fmt(median(times), 3)} ms, max ${fmt(Math.max(...times), 3)} ms (200 calls)`);
  await worker.terminate();
}

// 2. A 16 MiB web answer through the supervisor, read as the HTTP layer reads it.
const PLUGIN = `
export default class Big {
  async __botyardStart() { this.body = new Uint8Array(16 * 1024 * 1024).fill(7); }
  async __botyardStop() {}
  async __botyardEvent() {}
  async __botyardWeb() { return { status: 200, body: this.body }; }
  async __botyardConfigUpdate() {}
  __botyardCommands() { return []; }
}`;
const dir = await mkdtemp(join(tmpdir(), "botyard-bench-"));
const host = await createHost(benchConfig(dir), { logging: { logger: pino({ level: "warn" }) }, matrix: { call: async () => ({}) } });
const { registry, supervisor, store } = host;
const zip = new AdmZip();
zip.addFile("maubot.yaml", Buffer.from(YAML.stringify({ id: "bench.big", version: "1.0.0", main: "index.js" })));
zip.addFile("index.js", Buffer.from(PLUGIN));
await registry.install(zip.toBuffer(), { allowOverride: false });
store.putClient(benchClientRow("@b:test"));
await supervisor.create({ id: "big", type: "bench.big", enabled: true, primary_user: "@b:test", config: "", database_engine: "sqlite", isolated: false, state: "stopped", last_error: null });
const request = { method: "GET", path: "/", query: "", headers: {}, body: new Uint8Array() };
// V8's external memory of this isolate: counts ArrayBuffers transferred in from a worker, which
// process.memoryUsage().arrayBuffers (this thread's allocator only) does not.
const external = () => v8.getHeapStatistics().external_memory;
const times = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  const reply = await supervisor.handleWeb("big", request);
  let received = 0;
  for await (const chunk of reply.body) received += chunk.length;
  if (received !== 16 * MiB) throw new Error(`got ${received} bytes`);
  times.push(performance.now() - t0);
}
const ms = median(times);
console.log(`16 MiB web answer streamed from the worker and read to the end: median ${fmt(ms, 1)} ms (${fmt(16 / (ms / 1000), 0)} MiB/s, 5 runs)`);
if (globalThis.gc) {
  // What is still referenced at each chunk, garbage collected first (slow, so timed apart).
  // ArrayBuffers are swept concurrently after a collection: settle before taking the base.
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await new Promise((r) => setTimeout(r, 100));
  }
  const base = external();
  let peak = 0;
  const reply = await supervisor.handleWeb("big", request);
  for await (const _chunk of reply.body) {
    globalThis.gc();
    peak = Math.max(peak, external() - base);
  }
  console.log(`  main-thread external memory held at once while passing it on: at most ${fmt(peak / MiB)} MiB (the whole body: 16 MiB)`);
} else {
  console.log("  (run with --expose-gc for the memory held at once)");
}
await host.close();
await rm(dir, { recursive: true, force: true });
