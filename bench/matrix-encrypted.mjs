// Bench: what end-to-end encryption costs. Prints figures, asserts nothing.
//   npx tsc -b && node scripts/build-plugins.mjs echo && node bench/matrix-encrypted.mjs [rounds]
// The daemon (`botyard start`, own process, temporary config, echo instance on the first account)
// runs four times: encryption off/on × 1/10 bot accounts; its RSS after the accounts synced gives
// the extra memory per encrypted account. In the 1-account run with encryption on, a user with
// matrix-js-sdk's Rust crypto pings the bot in an encrypted and in an unencrypted room,
// interleaved, same run: p50/p95 of both round trips.
// Homeserver: BOTYARD_TEST_HS (default http://127.0.0.1:8008), shared secret from synapse.sh.
import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HS, fmt, pinger, rssMb, root, sleep, summary, support, waitJoined as waitJoinedIn } from "./support/matrix.mjs";

const { clientRowFor, createQuietClient, registerUser, startSyncing } = support;
const { HostStore } = await import(join(root, "packages/host/dist/store/host-store.js"));
const ROUNDS = Number(process.argv[2] ?? 50);
// The pinging user, with Rust crypto (in memory), decrypting what it receives.
const user = await registerUser("benchencuser", HS);
const userClient = createQuietClient(user, HS);
await userClient.initRustCrypto({ useIndexedDB: false });
const ping = pinger(userClient);
await startSyncing(userClient, 60_000);
const waitJoined = (roomId, userId) => waitJoinedIn(userClient, roomId, userId);

const bots = [];
for (let i = 0; i < 10; i++) bots.push(await registerUser(`benchencbot${i}`, HS));
const encryptedRoom = (
  await userClient.createRoom({
    invite: [bots[0].user_id],
    preset: "private_chat",
    initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
  })
).room_id;
const plainRoom = (await userClient.createRoom({ invite: [bots[0].user_id], preset: "private_chat" })).room_id;

const findEcho = () => (existsSync(join(root, "build/plugins")) ? readdirSync(join(root, "build/plugins")).find((n) => /^echo-v.+\.mbp$/.test(n)) : undefined);
if (!findEcho()) execFileSync(process.execPath, [join(root, "scripts/build-plugins.mjs"), "echo"], { stdio: "inherit" });
const echoMbp = join(root, "build/plugins", findEcho());

/** A daemon with `n` accounts (echo on the first), encryption on or off; resolves with its process once it answers. */
async function startHost(n, encryption) {
  const dir = mkdtempSync(join(tmpdir(), "botyard-bench-e2ee-"));
  mkdirSync(join(dir, "plugins"));
  copyFileSync(echoMbp, join(dir, "plugins/echo.mbp"));
  const configPath = join(dir, "config.yaml");
  writeFileSync(
    configPath,
    ["database: ./host.db", "server:", "  port: 0", "  unshared_secret: bench-e2ee-secret-0123456789", "admins:", "  root: bench-password",
      "logging:", "  level: warn", "  console: off", "encryption:", `  enabled: ${encryption}`, ""].join("\n"),
  );
  const store = HostStore.open(join(dir, "host.db"));
  for (const b of bots.slice(0, n)) store.putClient(clientRowFor(b, HS));
  store.putInstance({ id: "echo1", type: "org.botyard.echo", enabled: true, primary_user: bots[0].user_id, config: "", database_engine: "sqlite", isolated: false, state: "stopped", last_error: null });
  store.close();
  const proc = spawn(process.execPath, [join(root, "packages/host/dist/main.js"), "start", "-c", configPath], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
  await waitJoined(plainRoom, bots[0].user_id);
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await ping(plainRoom, bots[0].user_id, 5_000);
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
  }
  return { proc, dir };
}
async function stopHost({ proc, dir }) {
  const exited = new Promise((r) => proc.once("exit", r));
  proc.kill("SIGTERM");
  await Promise.race([exited, sleep(10_000)]);
  rmSync(dir, { recursive: true, force: true });
}
/** RSS once the accounts have synced and the same light load ran as in every other reading. */
async function settledRss(host) {
  for (let i = 0; i < 10; i++) await ping(plainRoom, bots[0].user_id);
  await sleep(5_000);
  return rssMb(host.proc.pid);
}

const rss = {};
let latency;
for (const n of [1, 10]) {
  for (const encryption of [false, true]) {
    const host = await startHost(n, encryption);
    if (n === 1 && encryption) {
      await waitJoined(encryptedRoom, bots[0].user_id);
      for (let i = 0; i < 5; i++) { await ping(encryptedRoom, bots[0].user_id); await ping(plainRoom, bots[0].user_id); } // warm-up
      const enc = [];
      const plain = [];
      for (let i = 0; i < ROUNDS; i++) {
        enc.push(await ping(encryptedRoom, bots[0].user_id));
        plain.push(await ping(plainRoom, bots[0].user_id));
      }
      latency = { enc: summary(enc), plain: summary(plain) };
    }
    rss[`${n}:${encryption}`] = await settledRss(host);
    await stopHost(host);
  }
}
userClient.stopClient();

const extra = (n) => rss[`${n}:true`] - rss[`${n}:false`];
console.log(`matrix-encrypted: daemon RSS with encryption off/on, and ${ROUNDS} interleaved !ping round trips (Synapse at ${HS})`);
console.log(`  1 account:   off ${fmt(rss["1:false"])} MB  on ${fmt(rss["1:true"])} MB  extra ${fmt(extra(1))} MB`);
console.log(`  10 accounts: off ${fmt(rss["10:false"])} MB  on ${fmt(rss["10:true"])} MB  extra ${fmt(extra(10))} MB (${fmt(extra(10) / 10)} MB per account; ${fmt((extra(10) - extra(1)) / 9)} MB per account after the first)`);
console.log(`  !ping encrypted room:   p50 ${fmt(latency.enc.p50)} ms  p95 ${fmt(latency.enc.p95)} ms`);
console.log(`  !ping unencrypted room: p50 ${fmt(latency.plain.p50)} ms  p95 ${fmt(latency.plain.p95)} ms`);
process.exit(0);
