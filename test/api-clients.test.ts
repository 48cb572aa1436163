// Client and client-auth routes against the real Synapse: whoami-checked creation, user_exists,
// mxid_mismatch, bad tokens, shared-secret and registration-token registration, password login
// with update_client, and the Matrix proxy the web UI uses for avatar uploads.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApiHarness, type ApiHarness } from "../packages/host/test-support/api-harness.js";
import { HS_URL, randomLocalpart, registerUser, registrationToken, sharedSecret, waitFor } from "./support/synapse.js";

const V1 = "/_matrix/maubot/v1";
let h: ApiHarness;

beforeAll(async () => {
  h = await startApiHarness({
    homeservers: {
      synapse: { url: HS_URL, secret: sharedSecret(), registration_token: null },
      bytoken: { url: HS_URL, secret: null, registration_token: registrationToken() },
    },
  });
});
afterAll(async () => {
  await h?.close();
});

describe("client routes on real Synapse", () => {
  it("adds a client with POST /client/new after whoami (201, syncing), refuses it again with user_exists", async () => {
    const bot = await registerUser("apinew");
    const res = await h.request("POST", `${V1}/client/new`, { body: { homeserver: HS_URL, access_token: bot.access_token, autojoin: false } });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ id: bot.user_id, device_id: bot.device_id, enabled: true, autojoin: false, displayname: "disable" });
    await waitFor(async () => (await h.request("GET", `${V1}/client/${bot.user_id}`)).json.sync_ok === true, 30_000, "the client to sync");
    const again = await h.request("POST", `${V1}/client/new`, { body: { homeserver: HS_URL, access_token: bot.access_token } });
    expect([again.status, again.json.errcode]).toEqual([409, "user_exists"]);
    const health = await h.request("GET", `${V1}/health`);
    expect(health.json.clients).toContainEqual(expect.objectContaining({ id: bot.user_id, sync_ok: true }));
  });

  it("answers bad_client_access_token for a token Synapse does not know, mxid_mismatch for someone else's", async () => {
    const bad = await h.request("POST", `${V1}/client/new`, { body: { homeserver: HS_URL, access_token: "syt_not_a_token" } });
    expect([bad.status, bad.json.errcode]).toEqual([400, "bad_client_access_token"]);
    const bot = await registerUser("apiput");
    const mismatch = await h.request("PUT", `${V1}/client/@someoneelse:localhost`, { body: { homeserver: HS_URL, access_token: bot.access_token } });
    expect([mismatch.status, mismatch.json.errcode]).toEqual([400, "mxid_mismatch"]);
    const created = await h.request("PUT", `${V1}/client/${bot.user_id}`, { body: { homeserver: HS_URL, access_token: bot.access_token, sync: false } });
    expect(created.status).toBe(201);
    const updated = await h.request("PUT", `${V1}/client/${bot.user_id}`, { body: { autojoin: false, displayname: "API bot" } });
    expect(updated.status).toBe(200);
    expect(updated.json).toMatchObject({ autojoin: false, displayname: "API bot", sync: false });
    // maubot's UI sends the whole object back on an edit.
    const roundTrip = await h.request("PUT", `${V1}/client/${bot.user_id}`, { body: { ...updated.json, online: false } });
    expect(roundTrip.status).toBe(200);
    expect(roundTrip.json).toMatchObject({ online: false, access_token: bot.access_token });
    const badToken = await h.request("PUT", `${V1}/client/${bot.user_id}`, { body: { access_token: "syt_revoked" } });
    expect(badToken.json.errcode).toBe("bad_client_access_token");
    expect((await h.request("DELETE", `${V1}/client/${bot.user_id}`)).status).toBe(204);
  });

  it("registers with the shared secret (login response), and with a registration token straight into a client", async () => {
    const name = randomLocalpart("apireg");
    const plain = await h.request("POST", `${V1}/client/auth/synapse/register`, { body: { username: name, password: "pw-1234567890" } });
    expect(plain.status).toBe(200);
    expect(plain.json).toMatchObject({ user_id: `@${name}:localhost`, access_token: expect.any(String), device_id: expect.any(String) });
    const taken = await h.request("POST", `${V1}/client/auth/synapse/register`, { body: { username: name, password: "pw-1234567890" } });
    expect(taken.json.errcode).toBe("user_exists");

    const tokenName = randomLocalpart("apitok");
    const viaToken = await h.request("POST", `${V1}/client/auth/bytoken/register?update_client=true`, { body: { username: tokenName, password: "pw-abcdefghij" } });
    expect(viaToken.status).toBe(201);
    expect(viaToken.json).toMatchObject({ id: `@${tokenName}:localhost`, homeserver: HS_URL });

    // Logging in again replaces the stored token: 202 as maubot answers an updated login.
    const login = await h.request("POST", `${V1}/client/auth/synapse/login?update_client=true`, { body: { username: tokenName, password: "pw-abcdefghij" } });
    expect(login.status).toBe(202);
    expect(login.json.access_token).not.toBe(viaToken.json.access_token);
    const wrong = await h.request("POST", `${V1}/client/auth/synapse/login`, { body: { username: tokenName, password: "wrong" } });
    expect([wrong.status, wrong.json.errcode]).toEqual([400, "bad_client_access_details"]);
  });

  it("proxies Matrix requests with the bot's token: whoami and an avatar upload", async () => {
    const bot = await registerUser("apiproxy");
    await h.request("POST", `${V1}/client/new`, { body: { homeserver: HS_URL, access_token: bot.access_token, sync: false } });
    const who = await h.request("GET", `${V1}/proxy/${bot.user_id}/_matrix/client/v3/account/whoami`);
    expect(who.status).toBe(200);
    expect(who.json.user_id).toBe(bot.user_id);
    const png = Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010806000000" + "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082", "hex");
    const upload = await h.request("POST", `${V1}/proxy/${bot.user_id}/_matrix/media/v3/upload?filename=a.png`, { raw: png, headers: { "content-type": "image/png" } });
    expect(upload.status, upload.text).toBe(200);
    expect(upload.json.content_uri).toMatch(/^mxc:\/\/localhost\//);
    const notFound = await h.request("GET", `${V1}/proxy/${bot.user_id}/_matrix/client/v3/nothing`);
    expect(notFound.status).toBe(404);
    expect(notFound.json.errcode).toBe("M_UNRECOGNIZED");
  });
});
