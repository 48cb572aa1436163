// The four ways to add a bot account, against the real Synapse, and the errors an operator sees
// when a detail is wrong.
import { afterAll, describe, expect, it } from "vitest";
import pino from "pino";
import {
  AccountError,
  loginWithPassword,
  registerWithSharedSecret,
  registerWithToken,
  whoami,
  type AccountCredentials,
} from "../packages/host/src/matrix/accounts.js";
import { ClientPool } from "../packages/host/src/matrix/client-pool.js";
import type { RoomEventSink } from "../packages/host/src/ports.js";
import type { MatrixEvent } from "@botyard/sdk";
import { HS_URL, TestUser, clientRowFor, isReplyTo, randomLocalpart, registerUser, registrationToken, sharedSecret } from "./support/synapse.js";

async function expectAccountError(promise: Promise<unknown>, errcode: string, matrixErrcode?: string): Promise<AccountError> {
  const err = await promise.then(
    () => {
      throw new Error("expected an AccountError");
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AccountError);
  const accountError = err as AccountError;
  expect(accountError.errcode).toBe(errcode);
  if (matrixErrcode) expect(accountError.matrixErrcode).toBe(matrixErrcode);
  expect(accountError.message.length).toBeGreaterThan(0);
  return accountError;
}

describe("bot accounts on a real Synapse", () => {
  const created: Record<string, AccountCredentials> = {};
  let user: TestUser | null = null;
  let pool: ClientPool | null = null;

  afterAll(async () => {
    await pool?.stopAll();
    user?.stop();
  });

  it("accepts an existing access token (whoami) and names its user and device", async () => {
    const account = await registerUser("tok");
    const me = await whoami(HS_URL, account.access_token);
    expect(me.user_id).toBe(account.user_id);
    expect(me.device_id).toBe(account.device_id);
    expect(me.home_server).toBe("localhost");
    created.token = me;
  });

  it("registers with the shared secret (Synapse admin API, HMAC-SHA1)", async () => {
    const name = randomLocalpart("ss");
    const creds = await registerWithSharedSecret(HS_URL, sharedSecret(), name, "pw-shared-secret-1");
    expect(creds.user_id).toBe(`@${name}:localhost`);
    expect(creds.access_token).toBeTruthy();
    expect((await whoami(HS_URL, creds.access_token)).user_id).toBe(creds.user_id);
    created.secret = creds;
  });

  it("registers with a registration token (m.login.registration_token user-interactive auth)", async () => {
    const name = randomLocalpart("rt");
    const creds = await registerWithToken(HS_URL, registrationToken(), name, "pw-reg-token-1");
    expect(creds.user_id).toBe(`@${name}:localhost`);
    expect(creds.device_id).toMatch(/^botyard_[A-Z0-9]{8}$/);
    expect((await whoami(HS_URL, creds.access_token)).device_id).toBe(creds.device_id);
    created.regtoken = creds;
  });

  it("logs in with username and password on a new botyard_ device", async () => {
    const account = await registerUser("pw");
    const creds = await loginWithPassword(HS_URL, account.localpart, account.password);
    expect(creds.user_id).toBe(account.user_id);
    expect(creds.device_id).toMatch(/^botyard_[A-Z0-9]{8}$/);
    expect(creds.device_id).not.toBe(account.device_id);
    expect((await whoami(HS_URL, creds.access_token)).device_id).toBe(creds.device_id);
    created.password = creds;
  });

  it("answers in a real room with an account from each of the four paths", async () => {
    expect(Object.keys(created).sort()).toEqual(["password", "regtoken", "secret", "token"]);
    const sink: RoomEventSink = {
      dispatch(clientId: string, event: MatrixEvent) {
        if (event.type === "m.room.message" && event.content.body === "!ping") {
          void pool!.call(clientId, "sendText", { roomId: event.room_id, text: `pong from ${clientId}`, replyTo: event.event_id });
        }
      },
      commandsOf: async () => [],
    };
    pool = new ClientPool({ logger: pino({ level: "silent" }), sink });
    const bots = Object.values(created);
    await pool.startAll(bots.map((c) => clientRowFor(c)));
    for (const bot of bots) expect(await pool.whenReady(bot.user_id, 30_000)).toBe(true);

    user = await TestUser.create("owner");
    const roomId = await user.createRoom(bots.map((b) => b.user_id));
    for (const bot of bots) await user.waitForJoin(roomId, bot.user_id); // autojoin
    const ping = await user.send(roomId, "!ping");
    for (const bot of bots) {
      const reply = await user.waitForEvent((e) => isReplyTo(ping)(e) && e.sender === bot.user_id, 20_000, `pong from ${bot.user_id}`);
      expect(reply.content.body).toBe(`pong from ${bot.user_id}`);
    }
  });

  it("reports a wrong token, password, secret or registration token with a typed error", async () => {
    await expectAccountError(whoami(HS_URL, "syt_not_a_token"), "bad_client_access_token", "M_UNKNOWN_TOKEN");
    const account = await registerUser("bad");
    await expectAccountError(loginWithPassword(HS_URL, account.localpart, "wrong password"), "bad_client_access_details", "M_FORBIDDEN");
    await expectAccountError(
      registerWithSharedSecret(HS_URL, "not the secret", randomLocalpart("bad"), "pw"),
      "bad_client_access_details",
    );
    await expectAccountError(
      registerWithToken(HS_URL, "not-a-registration-token", randomLocalpart("bad"), "pw-x"),
      "bad_client_access_details",
    );
    await expectAccountError(
      registerWithSharedSecret(HS_URL, sharedSecret(), account.localpart, "pw-again"),
      "user_exists",
      "M_USER_IN_USE",
    );
    await expectAccountError(whoami("http://127.0.0.1:9", "token"), "bad_client_connection_details");
  });
});
