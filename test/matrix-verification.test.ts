// Which bot accounts get encryption, and device verification as maubot 0.6, on the real Synapse
// through the management API: a client that does not sync gets no crypto; a device whose keys
// another client made keeps encryption off and last_error says what to do; generate_recovery_key
// sets up cross-signing (the first upload without interactive auth) and answers the key once;
// a fresh login of the same account is verified with that key and its device is cross-signed.
import { randomBytes } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import path from "node:path";
import { encodeRecoveryKey } from "matrix-js-sdk/lib/crypto-api/recovery-key.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../packages/host/src/daemon.js";
import { loginWithPassword } from "../packages/host/src/matrix/accounts.js";
import { cryptoStoreFile } from "../packages/host/src/store/crypto-store-files.js";
import { HS_URL, TestUser, clientRowFor, registerUser, waitFor, type TestAccount } from "./support/synapse.js";
import { addClient, startTempDaemon, daemonConfigLines } from "./support/daemon.js";

const SECRET = "verify-test-secret-0123456789abcdef";

interface ApiAnswer {
  status: number;
  json: Record<string, unknown>;
}

describe("device verification and who gets encryption, on a real Synapse", () => {
  let dir: string;
  let daemon: Daemon;
  let token: string;
  let watcher: TestUser;

  async function api(method: string, route: string, body?: unknown): Promise<ApiAnswer> {
    const res = await fetch(`http://127.0.0.1:${daemon.api!.port}/_matrix/maubot/v1${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  /** The device's keys as the homeserver publishes them to others. */
  async function publishedDevice(account: TestAccount, deviceId: string) {
    const res = await watcher.client.downloadKeysForUsers([account.user_id]);
    return res.device_keys?.[account.user_id]?.[deviceId];
  }

  const storeOf = (userId: string): string => cryptoStoreFile(path.join(dir, "crypto"), userId);

  beforeAll(async () => {
    ({ dir, daemon } = await startTempDaemon(
      "botyard-verify-",
      daemonConfigLines({
        database: "./host.db",
        port: 0,
        secret: SECRET,
        admins: { root: "verify-test-password" },
        logging: { level: "info", console: "off", file: "./botyard.log" },
        extra: ["crypto_db_pickle_key: verify-test-pickle-key"],
      }),
    ));
    const login = await fetch(`http://127.0.0.1:${daemon.api!.port}/_matrix/maubot/v1/auth/login`, {
      method: "POST",
      body: JSON.stringify({ secret: SECRET }),
    });
    token = ((await login.json()) as { token: string }).token;
    watcher = await TestUser.create("verifywatch", HS_URL);
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop();
    watcher?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("gives a client that does not sync no crypto: no store, no trust state, and says so when asked to verify", async () => {
    const bot = await registerUser("nosync");
    expect(await addClient(daemon, clientRowFor(bot, HS_URL, { sync: false }))).toBe(true);
    const client = await api("GET", `/client/${bot.user_id}`);
    expect(client.json).toMatchObject({ started: true, sync: false, device_id: bot.device_id, trust_state: null, fingerprint: null, last_error: null });
    expect(existsSync(storeOf(bot.user_id))).toBe(false);
    expect(await publishedDevice(bot, bot.device_id)).toBeUndefined();
    const refused = await api("POST", `/client/${bot.user_id}/generate_recovery_key`);
    expect([refused.status, refused.json.errcode]).toEqual([409, "client_encryption_off"]);
    expect(String(refused.json.error)).toContain("sync: false");
  });

  it("keeps encryption off for a device whose keys another client made, and last_error says what to do", async () => {
    const bot = await registerUser("foreign");
    // Another client (maubot before an import, say) made this device's keys.
    const other = await TestUser.fromAccount(bot, HS_URL, { encrypted: true });
    await waitFor(async () => (await publishedDevice(bot, bot.device_id)) !== undefined, 30_000, "the other client's device keys");
    const keysBefore = (await publishedDevice(bot, bot.device_id))?.keys;
    other.stop();

    expect(await addClient(daemon, clientRowFor(bot, HS_URL))).toBe(true);
    const client = await api("GET", `/client/${bot.user_id}`);
    expect(client.json).toMatchObject({ sync_ok: true, trust_state: null });
    expect(String(client.json.last_error)).toMatch(/^Encryption is off .*already has encryption keys .*Log the account in again for a new device/);
    // The device's keys are left as the other client published them.
    expect((await publishedDevice(bot, bot.device_id))?.keys).toEqual(keysBefore);
    expect(existsSync(storeOf(bot.user_id))).toBe(false);
  });

  it("generates a recovery key once, and verifies a fresh login of the same account with it", async () => {
    const bot = await registerUser("verifybot");
    expect(await addClient(daemon, clientRowFor(bot, HS_URL))).toBe(true);
    const before = await api("GET", `/client/${bot.user_id}`);
    expect(before.json).toMatchObject({ device_id: bot.device_id, trust_state: "unverified", last_error: null });
    expect(before.json.fingerprint).toMatch(/^(\S{4} )+\S{1,4}$/);

    const generated = await api("POST", `/client/${bot.user_id}/generate_recovery_key`);
    expect(generated.status).toBe(201);
    expect(generated.json).toEqual({ success: true, recovery_key: expect.stringMatching(/^([1-9A-HJ-NP-Za-km-z]{4} )+[1-9A-HJ-NP-Za-km-z]{1,4}$/) });
    const recoveryKey = String(generated.json.recovery_key);
    expect((await api("GET", `/client/${bot.user_id}`)).json.trust_state).toBe("cross-signed-trusted");
    const again = await api("POST", `/client/${bot.user_id}/generate_recovery_key`);
    expect([again.status, again.json.errcode]).toEqual([409, "client_has_keys"]);

    // A fresh login of the same account: a new device, a new crypto store, not verified yet.
    const fresh = await loginWithPassword(HS_URL, bot.localpart, bot.password);
    const put = await api("PUT", `/client/${bot.user_id}`, { access_token: fresh.access_token, device_id: fresh.device_id });
    expect(put.status).toBe(200);
    await waitFor(async () => (await api("GET", `/client/${bot.user_id}`)).json.trust_state !== null, 30_000, "encryption on the new device");
    expect((await api("GET", `/client/${bot.user_id}`)).json).toMatchObject({ device_id: fresh.device_id, trust_state: "unverified" });

    const garbled = await api("POST", `/client/${bot.user_id}/verify`, { recovery_key: recoveryKey.slice(0, -3) });
    expect([garbled.status, garbled.json.errcode]).toEqual([400, "bad_recovery_key"]);
    const another = await api("POST", `/client/${bot.user_id}/verify`, { recovery_key: encodeRecoveryKey(randomBytes(32)) });
    expect([another.status, another.json.errcode]).toEqual([400, "bad_recovery_key"]);
    expect(String(another.json.error)).toContain("not the current one");
    const missing = await api("POST", `/client/${bot.user_id}/verify`, {});
    expect([missing.status, missing.json.errcode]).toEqual([400, "bad_recovery_key"]);

    const verified = await api("POST", `/client/${bot.user_id}/verify`, { recovery_key: recoveryKey });
    expect([verified.status, verified.json]).toEqual([200, { success: true }]);
    expect((await api("GET", `/client/${bot.user_id}`)).json.trust_state).toBe("cross-signed-trusted");
    // Others see the new device signed by the account's self-signing key, not only by itself.
    await waitFor(
      async () => Object.keys((await publishedDevice(bot, fresh.device_id))?.signatures?.[bot.user_id] ?? {}).length === 2,
      30_000,
      "the cross-signing signature on the new device",
    );
  }, 120_000);
});
