// Compares the idle CPU of several daemons (builds or Node flags) run side by side, measured over
// the same windows. Run by hand; `npm run bench` does not run it.
//   npm run build && BOTYARD_BENCH_AB="base|--heap-growing-percent=50" node bench/support/lean-ab.mjs
//
// Why side by side: on a small machine that also runs Synapse, the idle CPU of one daemon measured
// in two runs a few minutes apart differs by up to 2x (other processes, the homeserver's own work,
// waves of crypto passes). Daemons that run at the same time share that noise, so their difference
// is the variants'. Each one gets its own fresh accounts (registered by shared secret) and runs
// with runtime-flags.ts' flags plus its variant's, through bench/lean.mjs' daemon mode.
// Environment:
//   BOTYARD_BENCH_AB            variants, separated by "|": node flags ("base" for none), optionally
//                               "@" and another build's packages/host/dist, e.g.
//                               "base@/tmp/old/packages/host/dist|base"
//   BOTYARD_BENCH_AB_ACCOUNTS   accounts per daemon (default 300)
//   BOTYARD_BENCH_AB_ROUNDS     idle windows (default 5), BOTYARD_BENCH_AB_WINDOW_S each (default 60)
//   BOTYARD_BENCH_AB_SETTLE_S   wait after all are syncing (default 120: start-up key uploads)
//   BOTYARD_TEST_HS             homeserver (default http://127.0.0.1:8008)
import { rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { leanDataDir, registerAccounts, startLeanDaemon, stopLeanDaemon, storeAccounts, waitAllSyncing } from "./lean-daemon.mjs";
import { root, sleep } from "./matrix.mjs";

const variants = (process.env.BOTYARD_BENCH_AB ?? "base").split("|").map((v) => {
  const [flags, dist] = v.split("@");
  return { label: v, flags: flags === "base" ? [] : flags.split(/\s+/).filter(Boolean), dist: dist || join(root, "packages/host/dist") };
});
const N = Number(process.env.BOTYARD_BENCH_AB_ACCOUNTS ?? 300);
const ROUNDS = Number(process.env.BOTYARD_BENCH_AB_ROUNDS ?? 5);
const WINDOW_S = Number(process.env.BOTYARD_BENCH_AB_WINDOW_S ?? 60);
const SETTLE_S = Number(process.env.BOTYARD_BENCH_AB_SETTLE_S ?? 120);
const tag = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const mb = (bytes) => (bytes / 2 ** 20).toFixed(0);

/** One variant's daemon: its data folder, accounts and the lean bench's daemon child. */
async function startVariant(variant, index) {
  const { HOST_NODE_FLAGS, HOST_ENV } = await import(pathToFileURL(join(variant.dist, "runtime-flags.js")).href);
  const { HostStore } = await import(pathToFileURL(join(variant.dist, "store/host-store.js")).href);
  const accounts = await registerAccounts(`leanab${tag}v${index}`, 0, N);
  const dir = leanDataDir({ tag });
  storeAccounts(HostStore, dir, accounts);
  const daemon = await startLeanDaemon(dir, { execArgv: [...HOST_NODE_FLAGS, ...variant.flags], env: { ...HOST_ENV, ...process.env, BOTYARD_BENCH_HOST_DIST: variant.dist } });
  return { ...variant, ...daemon, dir, ids: accounts.map((a) => a.user_id), cpuUs: 0, rounds: [] };
}

const daemons = [];
for (const [i, v] of variants.entries()) daemons.push(await startVariant(v, i));
for (const d of daemons) await waitAllSyncing(d, d.ids, d.label);
await sleep(SETTLE_S * 1000);
console.log(`lean-ab: ${daemons.length} daemons side by side, ${N} idle accounts each, ${ROUNDS} windows of ${WINDOW_S} s`);
const width = Math.max(...daemons.map((d) => d.label.length));
for (let r = 0; r < ROUNDS; r++) {
  const before = await Promise.all(daemons.map((d) => d.call("cpu")));
  const la = loadavg()[0].toFixed(2);
  await sleep(WINDOW_S * 1000);
  const after = await Promise.all(daemons.map((d) => d.call("cpu")));
  daemons.forEach((d, i) => {
    const us = after[i].user - before[i].user + after[i].system - before[i].system;
    d.cpuUs += us;
    d.rounds.push(((us / (WINDOW_S * 1e6)) * 100).toFixed(2));
    console.log(`  window ${r + 1} (load ${la}) ${d.label.padEnd(width)}  ${d.rounds.at(-1)} % of a core, RSS ${mb(after[i].rss)} MB`);
  });
}
console.log("  all windows:");
for (const d of daemons) console.log(`    ${d.label.padEnd(width)}  ${((d.cpuUs / (ROUNDS * WINDOW_S * 1e6)) * 100).toFixed(2)} % of a core (windows: ${d.rounds.join(", ")})`);
for (const d of daemons) {
  await stopLeanDaemon(d);
  rmSync(d.dir, { recursive: true, force: true });
}
process.exit(0);
