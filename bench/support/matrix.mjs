// What the Matrix benches share: the e2e tests' Synapse helpers bundled for plain Node, a bare
// user client, a `!ping` pinger that times round trips, interleaved rounds and percentiles.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { RoomEvent } from "matrix-js-sdk";
import { bundleTs } from "./bundle-ts.mjs";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * The e2e tests' Synapse helpers (test/support/synapse.ts: homeserver URL, accounts, the bare
 * user client, client rows), bundled once by the main process for plain Node. Packages stay
 * external, so the bundle is written under node_modules/.cache where they resolve; the child
 * processes import the same file (BOTYARD_BENCH_SUPPORT, inherited through the environment).
 */
export async function loadSynapseSupport() {
  let file = process.env.BOTYARD_BENCH_SUPPORT;
  if (!file) {
    const cache = join(root, "node_modules/.cache");
    mkdirSync(cache, { recursive: true });
    const dir = mkdtempSync(join(cache, "botyard-matrix-ping-"));
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
    file = join(dir, "synapse.mjs");
    // synapse.ts finds ../shared/homeserver/synapse.sh from its own location (bundleTs keeps it).
    await bundleTs(join(root, "test/support/synapse.ts"), file);
    process.env.BOTYARD_BENCH_SUPPORT = file;
  }
  return import(pathToFileURL(file).href);
}
export const support = await loadSynapseSupport();
export const HS = support.HS_URL;

// ---- a bare client, used by the pinging user and by the floor responder --------------------
export async function bareClient(account) {
  const client = support.createQuietClient(account, HS);
  await support.startSyncing(client, 60_000);
  return client;
}

export function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
export function summary(samples) {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), n: s.length };
}
export const fmt = (x) => x.toFixed(1);
export function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Sends `!ping` and resolves with the ms until the user's sync shows a reply to it from `from`. */
export function pinger(client) {
  const waiting = new Map();
  client.on(RoomEvent.Timeline, async (event, room, toStart, removed) => {
    if (toStart || removed || !room || !client.isInitialSyncComplete()) return;
    // An answer in an encrypted room is decrypted first (a client without crypto skips this).
    if (event.isEncrypted()) await client.decryptEventIfNeeded(event);
    const target = event.getContent()?.["m.relates_to"]?.["m.in_reply_to"]?.event_id;
    const w = target && waiting.get(target);
    if (w && event.getSender() === w.from) {
      waiting.delete(target);
      w.resolve(performance.now() - w.t0);
    }
  });
  return async (roomId, from, timeoutMs = 30_000) => {
    const t0 = performance.now();
    let resolveReply;
    const reply = new Promise((r) => (resolveReply = r));
    const res = await client.sendEvent(roomId, "m.room.message", { msgtype: "m.text", body: "!ping", "m.mentions": {} });
    // The answer may arrive before sendEvent resolves: register by id, then check the race.
    waiting.set(res.event_id, { t0, from, resolve: resolveReply });
    let timer;
    const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer from ${from} within ${timeoutMs} ms`)), timeoutMs)));
    try {
      return await Promise.race([reply, timeout]);
    } finally {
      clearTimeout(timer);
      waiting.delete(res.event_id);
    }
  };
}

/**
 * Round trips to several answerers, interleaved (a, b, c, a, b, c, ...), so that a change of load
 * on the machine during the run hits every series alike and the ratios stay fair.
 */
export async function interleavedRounds(ping, targets, n) {
  for (const t of targets) for (let i = 0; i < 5; i++) await ping(t.roomId, t.from); // warm-up
  const samples = targets.map(() => []);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < targets.length; k++) samples[k].push(await ping(targets[k].roomId, targets[k].from));
  }
  return samples.map(summary);
}

/** Waits for a member to join, as the user's sync sees it. */
export async function waitJoined(client, roomId, userId, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (client.getRoom(roomId)?.getMember(userId)?.membership === "join") return;
    await sleep(100);
  }
  throw new Error(`${userId} did not join ${roomId} within ${timeoutMs} ms`);
}

