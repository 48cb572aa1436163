// Bench: plugin instances in worker threads. Prints figures, asserts nothing.
//   node bench/host-instances.mjs            (build first: npx tsc -b packages/host)
// Figures: time from handing the host a bundle to its instance running; host RSS (the process
// RSS includes every worker thread) with 0, 1, 10 and 50 running instances of one plugin, and
// with 5 different plugins loaded (one instance each, so one worker each).
// Uses the echo plugin's .mbp from build/plugins/ when it exists, else a small fixture bundle.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// Stable RSS figures need gc(); re-run this script with --expose-gc if it is missing.
if (typeof globalThis.gc !== "function") {
  const run = spawnSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: "inherit" });
  process.exit(run.status ?? 1);
}

const { root, createHost, benchConfig, benchClientRow, AdmZip, YAML, pino } = await import("./support/host-dist.mjs");

function findEchoBundle() {
  for (const dir of ["build/plugins", "dist/plugins"]) {
    const full = join(root, dir);
    if (!existsSync(full)) continue;
    for (const name of readdirSync(full).filter((n) => n.endsWith(".mbp"))) {
      const manifest = new AdmZip(join(full, name)).getEntry("maubot.yaml");
      if (manifest && YAML.parse(manifest.getData().toString("utf8"))?.id === "org.botyard.echo") return join(full, name);
    }
  }
  return null;
}

const FIXTURE_SOURCE = `
export default class BenchPlugin {
  async __botyardStart(ctx) { this.ctx = ctx; ctx.db?.exec("CREATE TABLE IF NOT EXISTS t (n INTEGER)"); }
  async __botyardStop() {}
  async __botyardEvent() {}
  async __botyardWeb() { return { status: 200, body: "ok" }; }
  async __botyardConfigUpdate() {}
  __botyardCommands() { return []; }
}`;

function fixtureBundle(id) {
  const zip = new AdmZip();
  zip.addFile("maubot.yaml", Buffer.from(YAML.stringify({ id, version: "1.0.0", main: "index.js", database: true })));
  zip.addFile("index.js", Buffer.from(FIXTURE_SOURCE));
  return zip.toBuffer();
}

/** The same bundle under another plugin id (for the "5 different plugins" figure). */
function withId(buffer, id) {
  const zip = new AdmZip(buffer);
  const manifest = YAML.parse(zip.getEntry("maubot.yaml").getData().toString("utf8"));
  manifest.id = id;
  zip.updateFile("maubot.yaml", Buffer.from(YAML.stringify(manifest)));
  return zip.toBuffer();
}

const echoPath = findEchoBundle();
const baseBundle = echoPath ? readFileSync(echoPath) : fixtureBundle("bench.fixture");
const baseId = YAML.parse(new AdmZip(baseBundle).getEntry("maubot.yaml").getData().toString("utf8")).id;

class NullClientCaller {
  async call() {
    return { eventId: "$bench" };
  }
}

async function settledRssMb() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await new Promise((r) => setTimeout(r, 150));
  }
  return process.memoryUsage().rss / 1024 / 1024;
}

async function newHost() {
  const dir = await mkdtemp(join(tmpdir(), "botyard-bench-"));
  const { registry, supervisor, store, close } = await createHost(benchConfig(dir), { logging: { logger: pino({ level: "warn" }) }, matrix: new NullClientCaller() });
  store.putClient(benchClientRow("@bench:test"));
  const row = (id, type) => ({ id, type, enabled: true, primary_user: "@bench:test", config: "", database_engine: "sqlite", isolated: false, state: "stopped", last_error: null });
  return {
    registry,
    supervisor,
    row,
    async close() {
      await close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const fmt = (n, d = 1) => n.toFixed(d);
console.log(`bundle: ${echoPath ? `${echoPath} (echo plugin)` : "fixture bundle (echo .mbp not built)"}; node ${process.version}`);

// 1. Time from handing the host the bundle to the instance running (fresh host each run).
{
  const times = [];
  for (let i = 0; i < 5; i++) {
    const host = await newHost();
    const t0 = performance.now();
    await host.registry.install(baseBundle, { allowOverride: false });
    const status = await host.supervisor.create(host.row("first", baseId));
    const t1 = performance.now();
    if (status.state !== "running") console.log(`  run ${i}: instance is ${status.state}: ${status.lastError}`);
    times.push(t1 - t0);
    await host.close();
  }
  times.sort((a, b) => a - b);
  console.log(`bundle handed over → instance running: median ${fmt(times[2])} ms (min ${fmt(times[0])}, max ${fmt(times[4])}, 5 runs; includes the static checks in the check thread)`);
}

// 2. RSS with 0, 1, 10, 50 running instances of one plugin.
{
  const host = await newHost();
  const beforeInstall = await settledRssMb();
  await host.registry.install(baseBundle, { allowOverride: false });
  const rss = { 0: await settledRssMb() };
  console.log(`host RSS before the bundle: ${fmt(beforeInstall)} MB; after install (static checks only, no plugin code loaded): ${fmt(rss[0])} MB`);
  let running = 0;
  for (const target of [1, 10, 50]) {
    while (running < target) {
      const status = await host.supervisor.create(host.row(`i${running}`, baseId));
      if (status.state !== "running") throw new Error(`instance i${running} is ${status.state}: ${status.lastError}`);
      running++;
    }
    rss[target] = await settledRssMb();
  }
  console.log(`host RSS, instances of one plugin: 0 → ${fmt(rss[0])} MB, 1 → ${fmt(rss[1])} MB, 10 → ${fmt(rss[10])} MB, 50 → ${fmt(rss[50])} MB`);
  console.log(`  first instance (starts the plugin's worker): +${fmt(rss[1] - rss[0])} MB`);
  console.log(`  per extra instance: ${fmt((rss[50] - rss[1]) / 49, 2)} MB (1→50), ${fmt((rss[10] - rss[1]) / 9, 2)} MB (1→10)  [aim < 1 MB; maubot ≈ 0.25 MB]`);
  await host.close();
}

// 3. RSS with 5 different plugins loaded, one instance (so one worker) each.
{
  const host = await newHost();
  const before = await settledRssMb();
  for (let p = 0; p < 5; p++) {
    const id = `${baseId}.copy${p}`;
    await host.registry.install(withId(baseBundle, id), { allowOverride: false });
    const status = await host.supervisor.create(host.row(`p${p}`, id));
    if (status.state !== "running") throw new Error(`instance p${p} is ${status.state}: ${status.lastError}`);
  }
  const after = await settledRssMb();
  console.log(`host RSS, 5 different plugins (1 instance each): ${fmt(before)} → ${fmt(after)} MB, ${fmt((after - before) / 5, 2)} MB per plugin worker  [aim < 12 MB]`);
  await host.close();
}
