// Client routes that need no homeserver; the ones that talk to Synapse are in test/api-clients.test.ts.
import { afterEach, describe, expect, it } from "vitest";
import { makeBundle, testManifest } from "../../test-support/plugin-fixtures.js";
import { startApiHarness, type ApiHarness } from "../../test-support/api-harness.js";

let h: ApiHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const V1 = "/_matrix/maubot/v1";
const HS = { url: "http://127.0.0.1:9", secret: null, registration_token: null };

describe("client routes without a homeserver", () => {
  it("lists and gets clients in maubot's shape plus last_error", async () => {
    h = await startApiHarness();
    h.addClient("@bot:test");
    const list = await h.request("GET", `${V1}/clients`);
    expect(list.json).toHaveLength(1);
    const one = await h.request("GET", `${V1}/client/${encodeURIComponent("@bot:test")}`);
    expect(one.json).toEqual({
      id: "@bot:test",
      homeserver: "http://127.0.0.1:9",
      access_token: "token-@bot:test",
      device_id: "DEV",
      fingerprint: null,
      enabled: false,
      started: false,
      sync: true,
      sync_ok: false,
      autojoin: false,
      online: true,
      displayname: "disable",
      avatar_url: "disable",
      remote_displayname: null,
      remote_avatar_url: null,
      instances: [],
      trust_state: null,
      last_error: null,
    });
    // Unencoded @ and : work too (as maubot's UI sends them).
    expect((await h.request("GET", `${V1}/client/@bot:test`)).json.id).toBe("@bot:test");
  });

  it("answers client_not_found for unknown and malformed ids", async () => {
    h = await startApiHarness();
    for (const id of ["@ghost:test", "not-an-mxid", "..%2F..%2Fetc"]) {
      expect((await h.request("GET", `${V1}/client/${id}`)).json.errcode, id).toBe("client_not_found");
      expect((await h.request("DELETE", `${V1}/client/${id}`)).status, id).toBe(404);
      expect((await h.request("POST", `${V1}/client/${id}/clearcache`)).json.errcode, id).toBe("client_not_found");
    }
    expect((await h.request("PUT", `${V1}/client/not-an-mxid`, { body: {} })).json.errcode).toBe("client_not_found");
  });

  it("refuses to delete a client used by an instance (412), deletes it afterwards (204)", async () => {
    h = await startApiHarness();
    h.addClient("@bot:test");
    await h.request("POST", `${V1}/plugins/upload`, { raw: makeBundle({ manifest: testManifest() }) });
    await h.request("PUT", `${V1}/instance/uses`, { body: { type: "test.plugin", primary_user: "@bot:test", enabled: false } });
    const inUse = await h.request("DELETE", `${V1}/client/@bot:test`);
    expect([inUse.status, inUse.json.errcode]).toEqual([412, "client_in_use"]);
    await h.request("DELETE", `${V1}/instance/uses`);
    const deleted = await h.request("DELETE", `${V1}/client/@bot:test`);
    expect(deleted.status).toBe(204);
    expect(h.store.getClient("@bot:test")).toBeUndefined();
  });

  it("clears a client's sync state on clearcache", async () => {
    h = await startApiHarness();
    h.addClient("@bot:test", { next_batch: "s123", filter_id: "7" });
    const res = await h.request("POST", `${V1}/client/@bot:test/clearcache`);
    expect(res.json).toEqual({ success: true });
    expect(h.store.getClient("@bot:test")).toMatchObject({ next_batch: "", filter_id: "" });
  });

  it("answers POST /client/new without details or with an unreachable homeserver with maubot's errcodes", async () => {
    h = await startApiHarness();
    expect((await h.request("POST", `${V1}/client/new`, { body: { access_token: "x" } })).json.errcode).toBe("bad_client_connection_details");
    expect((await h.request("POST", `${V1}/client/new`, { body: { homeserver: "http://127.0.0.1:9" } })).json.errcode).toBe("bad_client_access_token");
    const down = await h.request("POST", `${V1}/client/new`, { body: { homeserver: "http://127.0.0.1:9", access_token: "x" } });
    expect([down.status, down.json.errcode]).toEqual([400, "bad_client_connection_details"]);
    expect((await h.request("POST", `${V1}/client/new`, { raw: "{" })).json.errcode).toBe("body_not_json");
  });

  it("lists auth servers and answers server_not_found, registration_secret_not_found, username_or_password_missing", async () => {
    h = await startApiHarness({ homeservers: { plain: HS, withsecret: { ...HS, secret: "s" } } });
    expect((await h.request("GET", `${V1}/client/auth/servers`)).json).toEqual({ plain: HS.url, withsecret: HS.url });
    const unknown = await h.request("POST", `${V1}/client/auth/nowhere/register`, { body: { username: "a", password: "b" } });
    expect(unknown.json).toEqual({
      errcode: "server_not_found",
      error:
        'Registration target server not found: "nowhere" is not a homeserver name of this botyard (the configured ones are "plain", "withsecret"). ' +
        "Add it under `homeservers:` in the config (url, and secret or registration_token) and restart botyard.",
    });
    expect((await h.request("POST", `${V1}/client/auth/nowhere/login`, { body: { username: "a", password: "b" } })).json.errcode).toBe("server_not_found");
    expect((await h.request("POST", `${V1}/client/auth/__proto__/login`, { body: { username: "a", password: "b" } })).json.errcode).toBe("server_not_found");
    const noSecret = await h.request("POST", `${V1}/client/auth/plain/register`, { body: { username: "a", password: "b" } });
    expect([noSecret.status, noSecret.json.errcode]).toEqual([404, "registration_secret_not_found"]);
    const missing = await h.request("POST", `${V1}/client/auth/withsecret/register`, { body: { username: "a" } });
    expect([missing.status, missing.json.errcode]).toEqual([400, "username_or_password_missing"]);
    expect((await h.request("POST", `${V1}/client/auth/plain/login`, { body: { password: "b" } })).json.errcode).toBe("username_or_password_missing");
  });

  it("answers the proxy for unknown clients and non-Matrix paths", async () => {
    h = await startApiHarness();
    h.addClient("@bot:test");
    expect((await h.request("GET", `${V1}/proxy/@ghost:test/_matrix/client/v3/account/whoami`)).json.errcode).toBe("client_not_found");
    expect((await h.request("GET", `${V1}/proxy/@bot:test/etc/passwd`)).json.errcode).toBe("resource_not_found");
    const escaping = await h.request("GET", `${V1}/proxy/@bot:test/_matrix/..%2F_synapse/admin/v2/users`);
    expect([escaping.status, escaping.json.errcode]).toEqual([404, "resource_not_found"]);
    const down = await h.request("GET", `${V1}/proxy/@bot:test/_matrix/client/v3/account/whoami`);
    expect(down.json.errcode).toBe("bad_client_connection_details");
  });
});
