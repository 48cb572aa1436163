import jwt from "jsonwebtoken";
import { afterEach, describe, expect, it } from "vitest";
import { ADMIN, OTHER_ADMIN, SERVER_SECRET, startApiHarness, type ApiHarness } from "../../test-support/api-harness.js";

let h: ApiHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const V1 = "/_matrix/maubot/v1";

/** Every authenticated route with a method, as registered with all features on. */
const PROTECTED: Array<[string, string]> = [
  ["GET", "/version"],
  ["GET", "/plugins"],
  ["GET", "/plugin/x"],
  ["DELETE", "/plugin/x"],
  ["POST", "/plugin/x/reload"],
  ["PUT", "/plugin/x"],
  ["POST", "/plugins/upload"],
  ["GET", "/instances"],
  ["GET", "/instance/x"],
  ["PUT", "/instance/x"],
  ["DELETE", "/instance/x"],
  ["GET", "/instance/x/database"],
  ["GET", "/instance/x/database/t"],
  ["POST", "/instance/x/database/query"],
  ["GET", "/clients"],
  ["GET", "/client/@a:b"],
  ["PUT", "/client/@a:b"],
  ["DELETE", "/client/@a:b"],
  ["POST", "/client/new"],
  ["POST", "/client/@a:b/clearcache"],
  ["POST", "/client/@a:b/generate_recovery_key"],
  ["POST", "/client/@a:b/verify"],
  ["GET", "/client/auth/servers"],
  ["POST", "/client/auth/hs/register"],
  ["POST", "/client/auth/hs/login"],
  ["GET", "/proxy/@a:b/_matrix/client/v3/account/whoami"],
  ["GET", "/debug/open"],
  ["GET", "/no/such/route"],
];

describe("management API auth", () => {
  it("logs in with a password and with maubot's server-secret form; ping names the admin", async () => {
    h = await startApiHarness();
    const byPassword = await h.request("POST", `${V1}/auth/login`, { body: ADMIN, token: null });
    expect(byPassword.status).toBe(200);
    expect(typeof byPassword.json.token).toBe("string");
    const ping = await h.request("POST", `${V1}/auth/ping`, { token: byPassword.json.token });
    expect(ping.status).toBe(200);
    expect(ping.json.username).toBe("admin");
    expect(ping.json.features.plugin).toBe(true);

    const bySecret = await h.request("POST", `${V1}/auth/login`, { body: { secret: SERVER_SECRET }, token: null });
    expect(bySecret.status).toBe(200);
    const rootPing = await h.request("POST", `${V1}/auth/ping`, { token: bySecret.json.token });
    expect(rootPing.json.username).toBe("root");
  });

  it("refuses a wrong password, an unknown admin, root by password, an empty password and a wrong secret with invalid_auth", async () => {
    h = await startApiHarness({ limits: { loginBurst: 10 } });
    for (const body of [
      { username: "admin", password: "wrong" },
      { username: "nobody", password: ADMIN.password },
      { username: "root", password: "" },
      { username: "nopassword", password: "" },
      { secret: "not the secret" },
      {},
    ]) {
      const res = await h.request("POST", `${V1}/auth/login`, { body, token: null, headers: { "x-forwarded-for": "1.2.3.4" } });
      expect(res.status, JSON.stringify(body)).toBe(401);
      expect(res.json).toEqual({ errcode: "invalid_auth", error: expect.any(String) });
    }
  });

  it("answers malformed JSON with body_not_json", async () => {
    h = await startApiHarness();
    const res = await h.request("POST", `${V1}/auth/login`, { raw: "{not json", token: null });
    expect(res.status).toBe(400);
    expect(res.json.errcode).toBe("body_not_json");
  });

  it("accepts the token as ?access_token= too", async () => {
    h = await startApiHarness();
    const res = await h.request("GET", `${V1}/version?access_token=${encodeURIComponent(h.token)}`, { token: null });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ version: "0.1.0-test" });
  });

  it("answers every protected route without a token with 401 auth_token_missing, with a bad one auth_token_invalid", async () => {
    h = await startApiHarness();
    for (const [method, path] of PROTECTED) {
      const missing = await h.request(method, V1 + path, { token: null });
      expect(missing.status, `${method} ${path}`).toBe(401);
      expect(missing.json.errcode, `${method} ${path}`).toBe("auth_token_missing");
      const invalid = await h.request(method, V1 + path, { token: "garbage" });
      expect(invalid.status, `${method} ${path}`).toBe(401);
      expect(invalid.json.errcode, `${method} ${path}`).toBe("auth_token_invalid");
    }
    const ping = await h.request("POST", `${V1}/auth/ping`, { token: null });
    expect(ping.json.errcode).toBe("auth_token_missing");
  });

  it("does not serve a protected route under a differently cased path without a token", async () => {
    h = await startApiHarness();
    h.addClient("@bot:example.org");
    // The auth check compares the prefix case-sensitively, so the routes must too (as aiohttp's do).
    for (const path of ["/_MATRIX/maubot/v1/clients", "/_matrix/Maubot/V1/instances"]) {
      const res = await h.request("GET", path, { token: null });
      expect(res.status, path).toBe(404);
      expect(res.json.errcode, path).toBe("resource_not_found");
    }
    const upper = await h.request("GET", `${V1}/CLIENTS`);
    expect(upper.json.errcode).toBe("resource_not_found");
  });

  it("refuses expired, tampered, foreign-secret and removed-admin tokens", async () => {
    h = await startApiHarness();
    const expired = jwt.sign({ user_id: "admin", exp: Math.floor(Date.now() / 1000) - 10 }, SERVER_SECRET, { algorithm: "HS256", issuer: "botyard" });
    const [head, payload, sig] = h.token.split(".");
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, "base64url").toString()), user_id: "root" })).toString("base64url");
    const tampered = `${head}.${forged}.${sig}`;
    const foreign = jwt.sign({ user_id: "admin" }, "another secret", { algorithm: "HS256", issuer: "botyard", expiresIn: 60 });
    const unsigned = jwt.sign({ user_id: "admin" }, "", { algorithm: "none", issuer: "botyard" });
    const ghost = jwt.sign({ user_id: "ghost" }, SERVER_SECRET, { algorithm: "HS256", issuer: "botyard", expiresIn: 60 });
    for (const token of [expired, tampered, foreign, unsigned, ghost]) {
      const res = await h.request("GET", `${V1}/plugins`, { token });
      expect(res.status).toBe(401);
      expect(res.json.errcode).toBe("auth_token_invalid");
    }
  });

  it("cuts a burst of parallel bad logins at the limit", async () => {
    h = await startApiHarness({ limits: { loginBurst: 3, loginRefillMs: 60_000 } });
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => h!.request("POST", `${V1}/auth/login`, { body: { username: "admin", password: `parallel ${i}` }, token: null })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429, 429, 429]);
  });

  it("gives tokens the configured lifetime", async () => {
    h = await startApiHarness({ tokenExpiry: 3600 });
    const decoded = jwt.decode(h.token) as { exp: number; iat: number };
    expect(decoded.exp - decoded.iat).toBe(3600);
  });

  it("rate-limits repeated bad logins per address with 429 and retry_after_ms while good tokens keep working", async () => {
    h = await startApiHarness({ limits: { loginBurst: 3, loginRefillMs: 60_000 } });
    const statuses: number[] = [];
    let limited: any;
    for (let i = 0; i < 5; i++) {
      const res = await h.request("POST", `${V1}/auth/login`, { body: { username: "admin", password: `guess ${i}` }, token: null });
      statuses.push(res.status);
      if (res.status === 429) limited = res.json;
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    expect(limited.errcode).toBe("rate_limited");
    expect(limited.retry_after_ms).toBeGreaterThan(0);
    // Even the right password waits: the name at this address is throttled, not the guess.
    const right = await h.request("POST", `${V1}/auth/login`, { body: ADMIN, token: null });
    expect(right.status).toBe(429);
    // Another admin from the same address (everyone, behind one reverse proxy) still logs in.
    const other = await h.request("POST", `${V1}/auth/login`, { body: OTHER_ADMIN, token: null });
    expect(other.status).toBe(200);
    // An admin who already has a token is not affected.
    const list = await h.request("GET", `${V1}/plugins`);
    expect(list.status).toBe(200);
  });

  it("believes X-Forwarded-For only from server.trusted_proxies, so clients behind the proxy are throttled apart", async () => {
    const badLogin = (forwardedFor: string) =>
      h!.request("POST", `${V1}/auth/login`, { body: { username: "admin", password: "wrong" }, token: null, headers: { "x-forwarded-for": forwardedFor } });
    h = await startApiHarness({ limits: { loginBurst: 2, loginRefillMs: 60_000 }, trustedProxies: ["loopback"] });
    expect([(await badLogin("203.0.113.5")).status, (await badLogin("203.0.113.5")).status, (await badLogin("203.0.113.5")).status]).toEqual([401, 401, 429]);
    // The same name from another client behind the proxy is not locked out.
    expect((await badLogin("203.0.113.6")).status).toBe(401);
    // Only the hop the trusted proxy saw counts: a client's own X-Forwarded-For entries do not.
    expect((await badLogin("198.51.100.1, 203.0.113.5")).status).toBe(429);
    const right = await h.request("POST", `${V1}/auth/login`, { body: ADMIN, token: null, headers: { "x-forwarded-for": "203.0.113.7" } });
    expect(right.status).toBe(200);
    await h.close();

    // Without trusted proxies the header is ignored: a client cannot pick a new address per guess.
    h = await startApiHarness({ limits: { loginBurst: 2, loginRefillMs: 60_000 } });
    expect([(await badLogin("203.0.113.1")).status, (await badLogin("203.0.113.2")).status, (await badLogin("203.0.113.3")).status]).toEqual([401, 401, 429]);
  });

  it("shows only whether login is on to anonymous callers of /features, everything to admins", async () => {
    h = await startApiHarness({ features: { client_proxy: false } });
    const anon = await h.request("GET", `${V1}/features`, { token: null });
    expect(anon.json).toEqual({ login: true });
    const admin = await h.request("GET", `${V1}/features`);
    expect(admin.json).toMatchObject({ login: true, plugin: true, client_proxy: false });
  });

  it("does not register the routes of disabled features", async () => {
    h = await startApiHarness({ features: { plugin: false, login: false, instance_database: false } });
    expect((await h.request("GET", `${V1}/plugins`)).json.errcode).toBe("resource_not_found");
    expect((await h.request("GET", `${V1}/instance/x/database`)).status).toBe(404);
    const login = await h.request("POST", `${V1}/auth/login`, { body: ADMIN, token: null });
    expect(login.status).toBe(404);
    expect(login.json.errcode).toBe("resource_not_found");
  });

  it("answers unknown routes with resource_not_found, wrong methods with method_not_allowed, and sets no CORS headers", async () => {
    h = await startApiHarness();
    const unknown = await h.request("GET", `${V1}/nothing/here`);
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ errcode: "resource_not_found", error: expect.any(String) });
    const outside = await h.request("GET", "/somewhere");
    expect(outside.json.errcode).toBe("resource_not_found");
    const wrong = await h.request("PATCH", `${V1}/plugins`);
    expect(wrong.status).toBe(405);
    expect(wrong.json.errcode).toBe("method_not_allowed");
    const pre = await h.request("OPTIONS", `${V1}/plugins`, { headers: { origin: "http://evil.example", "access-control-request-method": "GET" } });
    for (const res of [unknown, wrong, pre]) expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("refuses JSON bodies over the limit with 413 body_too_large", async () => {
    h = await startApiHarness({ limits: { jsonBytes: 1024 } });
    const res = await h.request("PUT", `${V1}/instance/big`, { body: { type: "x", primary_user: "@a:b", config: "x".repeat(5000) } });
    expect(res.status).toBe(413);
    expect(res.json.errcode).toBe("body_too_large");
  });

  it("answers health anonymously with status only, and with a token with instance counts and client status", async () => {
    h = await startApiHarness();
    h.addClient("@bot:test");
    const anon = await h.request("GET", `${V1}/health`, { token: null });
    expect(anon.status).toBe(200);
    expect(anon.json).toEqual({ status: "ok" });
    const full = await h.request("GET", `${V1}/health`);
    expect(full.json).toMatchObject({ status: "ok", instances: { running: 0, stopped: 0, failed: 0 }, clients: [{ id: "@bot:test", sync_ok: false, started: false }] });
  });

  it("answers maubot's dev_open probe with enabled: false", async () => {
    h = await startApiHarness();
    expect((await h.request("GET", `${V1}/debug/open`)).json).toEqual({ enabled: false });
  });

  it("serves paths.json at ui_base_path like maubot", async () => {
    h = await startApiHarness();
    const res = await h.request("GET", "/_matrix/maubot/paths.json", { token: null });
    expect(res.json).toEqual({ api_path: "/_matrix/maubot/v1" });
  });
});
