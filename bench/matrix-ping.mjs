// Bench: `!ping` round trips through the real Synapse. Prints figures, asserts nothing.
//   npx tsc -b && node scripts/build-plugins.mjs echo && node bench/matrix-ping.mjs [rounds]
// 1. Floor: a user sends `!ping`, a second user answers through a bare matrix-js-sdk client in
//    its own process (no host); the user's own sync sees the answer.
// 2. Host: the same user, but botyard answers (the daemon in its own process, started with
//    `botyard start` on a temporary config; one bot account, one echo instance).
// 200 sequential rounds each, interleaved floor/pool/host so load changes hit all alike.
// p50/p95/p99 of both and their ratio; the host's RSS (/proc/<pid>/status, the process includes
// its worker threads) with 1 client + 1 instance, then with 10 clients (+ the same instance).
// Also: the ClientPool alone in its own process with an in-process sink (no instance, no worker).
// Homeserver: BOTYARD_TEST_HS (default http://127.0.0.1:8008), shared secret from synapse.sh.
import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RoomEvent } from "matrix-js-sdk";
import { HS, bareClient, fmt, interleavedRounds, pinger, rssMb, root, sleep, support, waitJoined } from "./support/matrix.mjs";

const { clientRowFor, registerUser } = support;

// ---- child mode: the floor responder --------------------------------------------------------
if (process.argv[2] === "--responder") {
  const [account, pinger] = [JSON.parse(process.argv[3]), process.argv[4]];
  const client = await bareClient(account);
  client.on(RoomEvent.Timeline, (event, room, toStart, removed) => {
    if (toStart || removed || !room || !client.isInitialSyncComplete()) return;
    if (event.getSender() !== pinger || event.getType() !== "m.room.message") return;
    if (!String(event.getContent().body ?? "").startsWith("!ping")) return;
    void client.sendEvent(room.roomId, "m.room.message", {
      msgtype: "m.notice",
      body: "Pong!",
      "m.relates_to": { "m.in_reply_to": { event_id: event.getId() } },
      "m.mentions": {},
    });
  });
  // The invite arrived before this process started: it is in the first sync.
  for (const room of client.getRooms()) if (room.getMyMembership() === "invite") await client.joinRoom(room.roomId);
  client.on(RoomEvent.MyMembership, (room, membership) => {
    if (membership === "invite") void client.joinRoom(room.roomId);
  });
  process.stdout.write("ready\n");
  process.on("SIGTERM", () => {
    client.stopClient();
    process.exit(0);
  });
  await new Promise(() => undefined);
}

// ---- child mode: botyard's ClientPool alone, with an in-process sink answering !ping -----------
if (process.argv[2] === "--pool") {
  const account = JSON.parse(process.argv[3]);
  const { ClientPool } = await import(join(root, "packages/host/dist/matrix/index.js"));
  const { pino } = await import("pino");
  const pool = new ClientPool({
    logger: pino({ level: "warn" }),
    sink: {
      dispatch(clientId, event) {
        if (event.type === "m.room.message" && String(event.content.body ?? "").startsWith("!ping")) {
          void pool.call(clientId, "sendText", { roomId: event.room_id, text: "Pong!", replyTo: event.event_id, msgtype: "m.notice" });
        }
      },
      commandsOf: async () => [],
    },
  });
  await pool.start(clientRowFor(account, HS));
  await pool.whenReady(account.user_id, 60_000);
  process.stdout.write("ready\n");
  process.on("SIGTERM", () => void pool.stopAll().then(() => process.exit(0)));
  await new Promise(() => undefined);
}

// ---- main mode -------------------------------------------------------------------------------
const ROUNDS = Number(process.argv[2] ?? 200);
// Extra node flags for the daemon (its own, from runtime-flags.ts, are added by `botyard start`;
// a flag given here with another value wins), e.g. BOTYARD_BENCH_HOST_FLAGS=--max-semi-space-size=16.
const HOST_FLAGS = (process.env.BOTYARD_BENCH_HOST_FLAGS ?? "").split(/\s+/).filter(Boolean);
const { HostStore } = await import(join(root, "packages/host/dist/store/host-store.js"));
const tag = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const register = (name) => registerUser(`bench${name}`, HS);

// A sync answer to a pinger's message may be missed if the room is unknown locally; create the
// rooms first and let the user's client see them.
const user = await register("user");
const userClient = await bareClient(user);
const ping = pinger(userClient);

// ---- floor ----
const responder = await register("responder");
const floorRoom = (await userClient.createRoom({ invite: [responder.user_id], preset: "private_chat" })).room_id;
const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--responder", JSON.stringify(responder), user.user_id], { stdio: ["ignore", "pipe", "inherit"] });
await new Promise((r) => child.stdout.once("data", r));
await waitJoined(userClient, floorRoom, responder.user_id);

// ---- pool only (no instances, no worker) ----
const poolBot = await register("poolbot");
const poolRoom = (await userClient.createRoom({ invite: [poolBot.user_id], preset: "private_chat" })).room_id;
// With the daemon's runtime flags, so its RSS compares with the host's.
const { HOST_NODE_FLAGS, HOST_ENV } = await import(join(root, "packages/host/dist/runtime-flags.js"));
const poolChild = spawn(process.execPath, [...HOST_NODE_FLAGS, fileURLToPath(import.meta.url), "--pool", JSON.stringify(poolBot)], {
  stdio: ["ignore", "pipe", "inherit"],
  env: { ...HOST_ENV, ...process.env },
});
await new Promise((r) => poolChild.stdout.once("data", r));
await waitJoined(userClient, poolRoom, poolBot.user_id);

// ---- host ----
const findEcho = () => (existsSync(join(root, "build/plugins")) ? readdirSync(join(root, "build/plugins")).find((n) => /^echo-v.+\.mbp$/.test(n)) : undefined);
if (!findEcho()) execFileSync(process.execPath, [join(root, "scripts/build-plugins.mjs"), "echo"], { stdio: "inherit" });
const echoMbp = join(root, "build/plugins", findEcho());
const dir = mkdtempSync(join(tmpdir(), "botyard-bench-"));
mkdirSync(join(dir, "plugins"));
copyFileSync(echoMbp, join(dir, "plugins/echo.mbp"));
const configPath = join(dir, "config.yaml");
writeFileSync(
  configPath,
  ["database: ./host.db", "server:", "  port: 0", `  unshared_secret: bench-secret-${tag}-0123456789`, "admins:", "  root: bench-password", "logging:", "  level: warn", "  console: off", ""].join("\n"),
);
const bots = [];
for (let i = 0; i < 10; i++) bots.push(await register(`bot${i}`));
const hostRoom = (await userClient.createRoom({ invite: bots.map((b) => b.user_id), preset: "private_chat" })).room_id;
function seed(clients) {
  // The daemon migrates the schema on open; seed before it starts, as an operator's earlier run would have.
  const store = HostStore.open(join(dir, "host.db"));
  for (const b of clients) store.putClient(clientRowFor(b, HS));
  if (!store.getInstance("echo1")) {
    store.putInstance({
      id: "echo1",
      type: "org.botyard.echo",
      enabled: true,
      primary_user: bots[0].user_id,
      config: "",
      database_engine: "sqlite",
      isolated: false,
      state: "stopped",
      last_error: null,
    });
  }
  store.close();
}

async function runHost() {
  const proc = spawn(process.execPath, [...HOST_FLAGS, join(root, "packages/host/dist/main.js"), "start", "-c", configPath], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
  await waitJoined(userClient, hostRoom, bots[0].user_id);
  // Ready when the echo instance answers.
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await ping(hostRoom, bots[0].user_id, 5_000);
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
  }
  return proc;
}
async function stopHost(proc) {
  const exited = new Promise((r) => proc.once("exit", r));
  proc.kill("SIGTERM");
  await Promise.race([exited, sleep(10_000)]);
}

seed([bots[0]]);
let proc = await runHost();
const [floor, poolOnly, host] = await interleavedRounds(
  ping,
  [
    { roomId: floorRoom, from: responder.user_id },
    { roomId: poolRoom, from: poolBot.user_id },
    { roomId: hostRoom, from: bots[0].user_id },
  ],
  ROUNDS,
);
child.kill("SIGTERM");
await sleep(2_000);
const rss1 = rssMb(proc.pid);
// `botyard start` relaunches itself in place with its runtime flags (runtime-flags.ts): show what it ran with.
const hostFlags = readFileSync(`/proc/${proc.pid}/cmdline`, "utf8").split("\0").filter((a) => a.startsWith("--")).join(" ");
const rssPool = rssMb(poolChild.pid);
poolChild.kill("SIGTERM");
await stopHost(proc);

seed(bots);
proc = await runHost();
for (const b of bots) await waitJoined(userClient, hostRoom, b.user_id);
for (let i = 0; i < 20; i++) await ping(hostRoom, bots[0].user_id); // same load as before the first reading
await sleep(2_000);
const rss10 = rssMb(proc.pid);
await stopHost(proc);
userClient.stopClient();
rmSync(dir, { recursive: true, force: true });

console.log(`matrix-ping: ${ROUNDS} sequential !ping round trips through Synapse at ${HS} (user sends, user's sync sees the answer)`);
console.log(`  floor (second user, bare matrix-js-sdk): p50 ${fmt(floor.p50)} ms  p95 ${fmt(floor.p95)} ms  p99 ${fmt(floor.p99)} ms`);
console.log(`  ClientPool alone (in-process sink):      p50 ${fmt(poolOnly.p50)} ms  p95 ${fmt(poolOnly.p95)} ms  p99 ${fmt(poolOnly.p99)} ms  (process RSS ${fmt(rssPool)} MB)`);
console.log(`  botyard (daemon + echo instance):        p50 ${fmt(host.p50)} ms  p95 ${fmt(host.p95)} ms  p99 ${fmt(host.p99)} ms`);
console.log(`  ratio botyard/floor:                     p50 ${(host.p50 / floor.p50).toFixed(2)}  p95 ${(host.p95 / floor.p95).toFixed(2)}  p99 ${(host.p99 / floor.p99).toFixed(2)}`);
console.log(`  host RSS (node ${hostFlags || "without flags"}): 1 client + 1 instance ${fmt(rss1)} MB; 10 clients + 1 instance ${fmt(rss10)} MB`);
process.exit(0);
