// End-to-end encryption on the real Synapse: a test user with matrix-js-sdk's Rust crypto makes
// an encrypted room and invites the echo bot. `!ping` reaches the plugin decrypted and the pong
// goes back encrypted; after a daemon restart the bot keeps its device and identity key, still
// answers, and has not uploaded a new batch of one-time keys; an undecryptable event is logged,
// not dispatched; deleting the account removes its crypto store.
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { MatrixEvent } from "@botyard/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Daemon } from "../packages/host/src/daemon.js";
import { cryptoStoreFile } from "../packages/host/src/store/crypto-store-files.js";
import type { RoomEventSink } from "../packages/host/src/ports.js";
import { HS_URL, TestUser, clientRowFor, isReplyTo, registerUser, waitFor, type TestAccount } from "./support/synapse.js";
import { addClient, runEchoInstance, startTempDaemon, daemonConfigLines } from "./support/daemon.js";

/** The bot device's ed25519 key as the homeserver publishes it. */
async function publishedKey(user: TestUser, bot: TestAccount): Promise<string | undefined> {
  const res = await user.client.downloadKeysForUsers([bot.user_id]);
  const device = res.device_keys?.[bot.user_id]?.[bot.device_id];
  return device?.keys[`ed25519:${bot.device_id}`];
}

/** One-time keys the homeserver holds for the bot's device (an empty upload only reads the count). */
async function oneTimeKeyCount(bot: TestAccount): Promise<number> {
  const res = await fetch(`${HS_URL}/_matrix/client/v3/keys/upload`, {
    method: "POST",
    headers: { authorization: `Bearer ${bot.access_token}`, "content-type": "application/json" },
    body: "{}",
  });
  const body = (await res.json()) as { one_time_key_counts?: Record<string, number> };
  return body.one_time_key_counts?.signed_curve25519 ?? 0;
}

describe("end-to-end encryption with the echo plugin on a real Synapse", () => {
  let dir: string;
  let configPath: string;
  let daemon: Daemon;
  let bot: TestAccount;
  let user: TestUser;
  let roomId: string;
  const seen: MatrixEvent[] = [];

  /** Records what the pool hands to the instances, and hands it on (DaemonOptions.roomEvents). */
  function recordDispatches(instances: RoomEventSink): RoomEventSink {
    return {
      dispatch: (clientId, event) => {
        seen.push(event);
        instances.dispatch(clientId, event);
      },
      commandsOf: (clientId) => instances.commandsOf(clientId),
    };
  }

  async function ping(): Promise<MatrixEvent> {
    const id = await user.send(roomId, "!ping");
    const reply = await user.waitForEvent(isReplyTo(id), 30_000, "the echo plugin's pong");
    return reply;
  }

  beforeAll(async () => {
    bot = await registerUser("e2ebot");
    user = await TestUser.create("e2euser", HS_URL, { encrypted: true });
    roomId = await user.createEncryptedRoom([bot.user_id]);
    ({ dir, configPath, daemon } = await startTempDaemon(
      "botyard-e2ee-",
      daemonConfigLines({
        database: "./host.db",
        port: 0,
        secret: "e2ee-test-secret-0123456789abcdef",
        admins: { root: "e2ee-test-password" },
        logging: { level: "info", console: "off", file: "./botyard.log" },
        extra: ["crypto_db_pickle_key: e2ee-test-pickle-key"],
      }),
      { roomEvents: recordDispatches },
    ));
    expect(await addClient(daemon, clientRowFor(bot, HS_URL))).toBe(true);
    await user.waitForJoin(roomId, bot.user_id);
    await runEchoInstance(daemon, "echo1", bot.user_id);
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop();
    user?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("hands the plugin the decrypted !ping and sends the pong encrypted", async () => {
    const reply = await ping();
    expect(reply.sender).toBe(bot.user_id);
    expect(String(reply.content.body)).toMatch(/^Pong!/);
    expect(user.encryptedIds.has(reply.event_id)).toBe(true);
    const dispatched = seen.filter((e) => e.room_id === roomId && e.sender === user.userId);
    expect(dispatched.length).toBeGreaterThan(0);
    expect(dispatched.map((e) => e.type)).not.toContain("m.room.encrypted");
    expect(dispatched.some((e) => e.content.body === "!ping")).toBe(true);
    expect(daemon.clients.status(bot.user_id).last_error).toBeNull();
  });

  it("logs an event it cannot decrypt and does not dispatch it", async () => {
    const res = await user.client.http.authedRequest<{ event_id: string }>(
      "PUT" as never,
      `/rooms/${encodeURIComponent(roomId)}/send/m.room.encrypted/undecryptable-${Date.now()}`,
      undefined,
      { algorithm: "m.megolm.v1.aes-sha2", sender_key: "nokey", session_id: "no-such-session", ciphertext: "AAAA", device_id: "NODEVICE" },
    );
    const log = path.join(dir, "botyard.log");
    await waitFor(() => existsSync(log) && readFileSync(log, "utf8").includes(res.event_id), 30_000, "the decryption failure in the log");
    const line = readFileSync(log, "utf8").split("\n").find((l) => l.includes(res.event_id)) ?? "";
    expect(line).toContain("could not decrypt an event");
    expect(JSON.parse(line).reason).toBeTruthy();
    // A later event is dispatched: the undecryptable one before it was not.
    await ping();
    expect(seen.some((e) => e.event_id === res.event_id)).toBe(false);
  });

  it("dispatches an event whose keys arrive late exactly once, after they arrive", async () => {
    // A user whose client holds back its to-device messages (the Olm-encrypted room key for the
    // bot) while it sends: the bot gets the event before the key.
    const held: Array<{ url: string; init: RequestInit }> = [];
    let holding = true;
    const fetchFn: typeof fetch = async (input, init) => {
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      if (holding && init?.method === "PUT" && url.includes("/sendToDevice/m.room.encrypted/")) {
        held.push({ url, init });
        return new Response("{}", { status: 200, headers: { "content-type": "application/json" } });
      }
      return fetch(input, init);
    };
    const late = await TestUser.create("e2elate", HS_URL, { encrypted: true, fetchFn });
    try {
      const lateRoom = await late.createEncryptedRoom([bot.user_id]);
      await late.waitForJoin(lateRoom, bot.user_id);
      const id = await late.send(lateRoom, "!ping");
      expect(held.length).toBeGreaterThan(0);

      const log = path.join(dir, "botyard.log");
      await waitFor(() => readFileSync(log, "utf8").includes(id), 30_000, "the decryption failure in the log");
      const line = readFileSync(log, "utf8").split("\n").find((l) => l.includes(id)) ?? "";
      expect(line).toContain("could not decrypt an event");
      expect(JSON.parse(line).reason).toMatch(/^[A-Z_]+$/);
      expect(seen.some((e) => e.event_id === id)).toBe(false);

      holding = false;
      for (const h of held) {
        const res = await fetch(h.url, h.init);
        expect(res.status).toBe(200);
      }
      const reply = await late.waitForEvent(isReplyTo(id), 30_000, "the pong to the late !ping");
      expect(late.encryptedIds.has(reply.event_id)).toBe(true);
      // Another round trip: anything dispatched twice would have arrived by now.
      const next = await late.send(lateRoom, "!ping");
      await late.waitForEvent(isReplyTo(next), 30_000, "the pong to the next !ping");
      expect(seen.filter((e) => e.event_id === id)).toHaveLength(1);
      expect(late.events.filter(isReplyTo(id))).toHaveLength(1);
    } finally {
      late.stop();
    }
  }, 120_000);

  it("keeps its device and identity key across a restart, without a new batch of one-time keys", async () => {
    const keyBefore = await publishedKey(user, bot);
    expect(keyBefore).toBeTruthy();
    const storeFile = cryptoStoreFile(path.join(dir, "crypto"), bot.user_id);
    expect(existsSync(storeFile)).toBe(true);
    // The store is encrypted at rest: no key material in the clear.
    expect(readFileSync(storeFile).includes(Buffer.from(bot.device_id))).toBe(false);
    const countBefore = await oneTimeKeyCount(bot);
    // What changed since the store file was last written whole is in its journal, so the restart
    // below also replays the journal (the 21 bytes are its header).
    expect(statSync(`${storeFile}.log`).size).toBeGreaterThan(21);

    await daemon.stop();
    // Nothing left in memory: the next start reads the store file.
    const idb = (globalThis as unknown as { indexedDB: { databases(): Promise<Array<{ name: string }>> } }).indexedDB;
    expect((await idb.databases()).filter((d) => d.name.includes(bot.user_id))).toEqual([]);
    daemon = new Daemon({ configPath, roomEvents: recordDispatches });
    await daemon.start();
    await waitFor(() => daemon.clients.status(bot.user_id).sync_ok, 30_000, "the bot to sync after the restart");
    await waitFor(() => daemon.supervisor.status("echo1").state === "running", 30_000, "echo1 to run again");

    const reply = await ping();
    expect(user.encryptedIds.has(reply.event_id)).toBe(true);
    expect(await publishedKey(user, bot)).toBe(keyBefore);
    const devices = await user.client.downloadKeysForUsers([bot.user_id]);
    expect(Object.keys(devices.device_keys?.[bot.user_id] ?? {})).toEqual([bot.device_id]);
    // A restart that forgot the published keys uploads 50 more; topping up what was claimed is fine.
    const countAfter = await oneTimeKeyCount(bot);
    expect(countAfter).toBeLessThanOrEqual(Math.max(countBefore, 50));
    expect(daemon.clients.status(bot.user_id).last_error).toBeNull();
  }, 120_000);

  it("goes on without encryption when the store cannot be read, and says what to do", async () => {
    const storeFile = cryptoStoreFile(path.join(dir, "crypto"), bot.user_id);
    await daemon.stop();
    writeFileSync(storeFile, "damaged");
    daemon = new Daemon({ configPath });
    await daemon.start();
    await waitFor(() => daemon.clients.status(bot.user_id).sync_ok, 30_000, "the bot to sync without its store");
    expect(daemon.clients.status(bot.user_id).last_error).toMatch(/Encryption is off .*damaged.*delete .*\.store/);
    // Unencrypted rooms still work.
    const plainRoom = await user.createRoom([bot.user_id]);
    await user.waitForJoin(plainRoom, bot.user_id);
    await waitFor(() => daemon.supervisor.status("echo1").state === "running", 30_000, "echo1 to run again");
    const id = await user.send(plainRoom, "!ping");
    const reply = await user.waitForEvent(isReplyTo(id), 30_000, "a pong in the unencrypted room");
    expect(user.encryptedIds.has(reply.event_id)).toBe(false);
    // The damaged file is left for the operator, not overwritten.
    expect(readFileSync(storeFile, "utf8")).toBe("damaged");
  }, 120_000);

  it("removes the crypto store with the account", async () => {
    const storeFile = cryptoStoreFile(path.join(dir, "crypto"), bot.user_id);
    await daemon.clients.remove(bot.user_id);
    expect(existsSync(storeFile)).toBe(false);
  });
});
