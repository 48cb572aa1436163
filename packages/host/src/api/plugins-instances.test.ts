import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeBundle, testManifest } from "../../test-support/plugin-fixtures.js";
import { startApiHarness, type ApiHarness } from "../../test-support/api-harness.js";

let h: ApiHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const V1 = "/_matrix/maubot/v1";
const bundle = (overrides: Record<string, unknown> = {}) => makeBundle({ manifest: testManifest({ webapp: true, ...overrides }) });

async function withPluginAndClient(): Promise<ApiHarness> {
  const harness = await startApiHarness();
  harness.addClient("@bot:test");
  const up = await harness.request("POST", `${V1}/plugins/upload`, { raw: bundle(), headers: { "content-type": "application/zip" } });
  expect(up.status).toBe(201);
  return harness;
}

describe("plugin routes", () => {
  it("uploads (201), refuses the same id without allow_override (409), replaces with it (200), lists and gets", async () => {
    h = await startApiHarness();
    const created = await h.request("POST", `${V1}/plugins/upload`, { raw: bundle() });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ id: "test.plugin", version: "1.0.0", instances: [], path: expect.stringContaining("test.plugin-v1.0.0.mbp") });
    const again = await h.request("POST", `${V1}/plugins/upload`, { raw: bundle({ version: "1.1.0" }) });
    expect(again.status).toBe(409);
    expect(again.json.errcode).toBe("plugin_exists");
    const replaced = await h.request("POST", `${V1}/plugins/upload?allow_override=true`, { raw: bundle({ version: "1.1.0" }) });
    expect(replaced.status).toBe(200);
    expect(replaced.json.version).toBe("1.1.0");
    const list = await h.request("GET", `${V1}/plugins`);
    expect(list.json.map((p: { id: string; version: string }) => [p.id, p.version])).toEqual([["test.plugin", "1.1.0"]]);
    expect((await h.request("GET", `${V1}/plugin/test.plugin`)).json.version).toBe("1.1.0");
  });

  it("takes the bundle as the one file of a multipart body too (curl -F)", async () => {
    h = await startApiHarness({ limits: { bundleBytes: 64 * 1024 } });
    const form = new FormData();
    form.append("bundle", new Blob([bundle()], { type: "application/zip" }), "test.mbp");
    const res = await fetch(`${h.base}${V1}/plugins/upload`, { method: "POST", headers: { authorization: `Bearer ${h.token}` }, body: form });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { id: string }).id).toBe("test.plugin");
    const big = new FormData();
    big.append("bundle", new Blob([Buffer.alloc(100 * 1024)]), "big.mbp");
    const tooBig = await fetch(`${h.base}${V1}/plugins/upload`, { method: "POST", headers: { authorization: `Bearer ${h.token}` }, body: big });
    expect(tooBig.status).toBe(413);
    const empty = new FormData();
    empty.append("note", "no file here");
    const none = await fetch(`${h.base}${V1}/plugins/upload`, { method: "POST", headers: { authorization: `Bearer ${h.token}` }, body: empty });
    expect(((await none.json()) as { errcode: string }).errcode).toBe("plugin_invalid");
  });

  it("answers plugin_not_found, plugin_invalid, pid_mismatch, and bundle_too_large", async () => {
    h = await startApiHarness({ limits: { bundleBytes: 64 * 1024 } });
    expect((await h.request("GET", `${V1}/plugin/nope`)).json.errcode).toBe("plugin_not_found");
    expect((await h.request("DELETE", `${V1}/plugin/nope`)).status).toBe(404);
    expect((await h.request("POST", `${V1}/plugin/nope/reload`)).json.errcode).toBe("plugin_not_found");
    const invalid = await h.request("POST", `${V1}/plugins/upload`, { raw: Buffer.from("not a zip") });
    expect(invalid.status).toBe(400);
    expect(invalid.json.errcode).toBe("plugin_invalid");
    const mismatch = await h.request("PUT", `${V1}/plugin/other.plugin`, { raw: bundle() });
    expect(mismatch.status).toBe(400);
    expect(mismatch.json.errcode).toBe("pid_mismatch");
    const huge = await h.request("POST", `${V1}/plugins/upload`, { raw: Buffer.alloc(200 * 1024) });
    expect(huge.status).toBe(413);
    expect(huge.json.errcode).toBe("bundle_too_large");
  });

  it("PUT /plugin/{id} creates (201) then replaces (200); reload answers success; delete is refused while instances exist", async () => {
    h = await startApiHarness();
    h.addClient("@bot:test");
    expect((await h.request("PUT", `${V1}/plugin/test.plugin`, { raw: bundle() })).status).toBe(201);
    expect((await h.request("PUT", `${V1}/plugin/test.plugin`, { raw: bundle({ version: "2.0.0" }) })).status).toBe(200);
    expect((await h.request("POST", `${V1}/plugin/test.plugin/reload`)).json).toEqual({ success: true });
    await h.request("PUT", `${V1}/instance/one`, { body: { type: "test.plugin", primary_user: "@bot:test", enabled: false } });
    const inUse = await h.request("DELETE", `${V1}/plugin/test.plugin`);
    expect(inUse.status).toBe(412);
    expect(inUse.json.errcode).toBe("plugin_in_use");
    expect((await h.request("DELETE", `${V1}/instance/one`)).status).toBe(204);
    const deleted = await h.request("DELETE", `${V1}/plugin/test.plugin`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe("");
    expect((await h.request("GET", `${V1}/plugins`)).json).toEqual([]);
  });
});

describe("plugin reload failure", () => {
  it("answers 500 plugin_reload_fail when the bundle file is gone", async () => {
    h = await startApiHarness();
    const up = await h.request("POST", `${V1}/plugins/upload`, { raw: bundle() });
    const { rm } = await import("node:fs/promises");
    await rm(up.json.path);
    const res = await h.request("POST", `${V1}/plugin/test.plugin/reload`);
    expect([res.status, res.json.errcode]).toEqual([500, "plugin_reload_fail"]);
  });
});

describe("instance routes", () => {
  it("creates a running instance (201) with maubot's fields plus state, last_error and isolated; ids are lower-cased", async () => {
    h = await withPluginAndClient();
    const res = await h.request("PUT", `${V1}/instance/MyBot`, { body: { type: "test.plugin", primary_user: "@bot:test", config: "greeting: hi\n" } });
    expect(res.status).toBe(201);
    expect(res.json).toEqual({
      id: "mybot",
      type: "test.plugin",
      enabled: true,
      started: true,
      primary_user: "@bot:test",
      config: "greeting: hi\n",
      base_config: null,
      database: true,
      database_interface: "asyncpg",
      database_engine: "sqlite",
      isolated: false,
      error_notification_level: "ERROR",
      state: "running",
      last_error: null,
    });
    expect((await h.request("GET", `${V1}/instance/MYBOT`)).json.id).toBe("mybot");
    expect((await h.request("GET", `${V1}/instances`)).json.map((i: { id: string }) => i.id)).toEqual(["mybot"]);
    expect((await h.request("GET", `${V1}/plugin/test.plugin`)).json.instances[0].id).toBe("mybot");
  });

  it("stops and starts with started, disables, changes config, renames by id, and deletes with its database", async () => {
    h = await withPluginAndClient();
    await h.request("PUT", `${V1}/instance/one`, { body: { type: "test.plugin", primary_user: "@bot:test" } });
    const stopped = await h.request("PUT", `${V1}/instance/one`, { body: { started: false } });
    expect(stopped.status).toBe(200);
    expect(stopped.json).toMatchObject({ started: false, state: "stopped", enabled: true });
    const started = await h.request("PUT", `${V1}/instance/one`, { body: { started: true } });
    expect(started.json).toMatchObject({ started: true, state: "running" });
    const configured = await h.request("PUT", `${V1}/instance/one`, { body: { config: "x: 1\n" } });
    expect(configured.json.config).toBe("x: 1\n");
    // maubot's UI sends the whole instance object back on an edit.
    const roundTrip = await h.request("PUT", `${V1}/instance/one`, { body: { ...configured.json, config: "x: 2\n" } });
    expect(roundTrip.json).toMatchObject({ id: "one", config: "x: 2\n", state: "running" });
    const renamed = await h.request("PUT", `${V1}/instance/one`, { body: { id: "Two" } });
    expect(renamed.json).toMatchObject({ id: "two", state: "running" });
    expect((await h.request("GET", `${V1}/instance/one`)).json.errcode).toBe("instance_not_found");
    expect(existsSync(join(h.config.plugin_databases.sqlite, "two.db"))).toBe(true);
    const disabled = await h.request("PUT", `${V1}/instance/two`, { body: { enabled: false } });
    expect(disabled.json).toMatchObject({ enabled: false, started: false });
    const deleted = await h.request("DELETE", `${V1}/instance/two`);
    expect(deleted.status).toBe(204);
    expect(existsSync(join(h.config.plugin_databases.sqlite, "two.db"))).toBe(false);
    expect((await h.request("GET", `${V1}/instances`)).json).toEqual([]);
  });

  it("shows a failed start as state failed with its last_error, and isolated as given", async () => {
    h = await withPluginAndClient();
    const res = await h.request("PUT", `${V1}/instance/broken`, { body: { type: "test.plugin", primary_user: "@bot:test", config: "fail_start: true\n", isolated: true } });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ id: "broken", started: false, state: "failed", last_error: expect.stringContaining("boom in start"), isolated: true });
    expect((await h.request("GET", `${V1}/instances`)).json[0]).toMatchObject({ state: "failed", last_error: expect.stringContaining("boom in start") });
  });

  it("keeps error_notification_level per instance, set on create or update without a restart", async () => {
    h = await withPluginAndClient();
    const created = await h.request("PUT", `${V1}/instance/loud`, { body: { type: "test.plugin", primary_user: "@bot:test", error_notification_level: "warning" } });
    expect(created.json).toMatchObject({ error_notification_level: "WARN", state: "running" });
    const transitions: string[] = [];
    h.supervisor.on("state", (id, state) => transitions.push(`${id} ${state}`));
    const changed = await h.request("PUT", `${V1}/instance/loud`, { body: { error_notification_level: "critical" } });
    expect(changed.json).toMatchObject({ error_notification_level: "CRITICAL", state: "running" });
    expect(transitions).toEqual([]);
    expect(h.store.getInstance("loud")?.error_notification_level).toBe("CRITICAL");
    const bad = await h.request("PUT", `${V1}/instance/loud`, { body: { error_notification_level: "LOUD" } });
    expect([bad.status, bad.json.errcode, bad.json.error]).toEqual([400, "body_not_json", 'Field "error_notification_level" must be one of DEBUG, INFO, WARN, ERROR, CRITICAL']);
    expect(h.store.getInstance("loud")?.error_notification_level).toBe("CRITICAL");
  });

  it("answers each create/update errcode", async () => {
    h = await withPluginAndClient();
    const cases: Array<[unknown, string, number]> = [
      [{ primary_user: "@bot:test" }, "plugin_type_required", 400],
      [{ type: "test.plugin" }, "primary_user_required", 400],
      [{ type: "no.such", primary_user: "@bot:test" }, "plugin_type_not_found", 404],
      [{ type: "test.plugin", primary_user: "@ghost:test" }, "primary_user_not_found", 404],
      [{ type: "test.plugin", primary_user: "@bot:test", enabled: "yes" }, "body_not_json", 400],
    ];
    for (const [body, errcode, status] of cases) {
      const res = await h.request("PUT", `${V1}/instance/new`, { body });
      expect([res.status, res.json.errcode], JSON.stringify(body)).toEqual([status, errcode]);
    }
    expect((await h.request("PUT", `${V1}/instance/new`, { raw: "nope" })).json.errcode).toBe("body_not_json");
    expect((await h.request("GET", `${V1}/instance/missing`)).json.errcode).toBe("instance_not_found");
    expect((await h.request("DELETE", `${V1}/instance/missing`)).status).toBe(404);
    await h.request("PUT", `${V1}/instance/one`, { body: { type: "test.plugin", primary_user: "@bot:test", enabled: false } });
    expect((await h.request("PUT", `${V1}/instance/one`, { body: { type: "no.such" } })).json.errcode).toBe("plugin_type_not_found");
    expect((await h.request("PUT", `${V1}/instance/one`, { body: { primary_user: "@ghost:test" } })).json.errcode).toBe("primary_user_not_found");
    await h.request("PUT", `${V1}/instance/other`, { body: { type: "test.plugin", primary_user: "@bot:test", enabled: false } });
    await h.request("PUT", `${V1}/instance/live`, { body: { type: "test.plugin", primary_user: "@bot:test" } });
    const badConfig = await h.request("PUT", `${V1}/instance/live`, { body: { config: "a: [unclosed" } });
    expect([badConfig.status, badConfig.json.errcode]).toEqual([400, "invalid_config"]);
    expect((await h.request("GET", `${V1}/instance/live`)).json).toMatchObject({ config: "", state: "running" });
    const clash = await h.request("PUT", `${V1}/instance/one`, { body: { id: "other" } });
    expect([clash.status, clash.json.errcode]).toEqual([400, "invalid_id"]);
    const badRename = await h.request("PUT", `${V1}/instance/one`, { body: { id: "../evil" } });
    expect(badRename.json.errcode).toBe("invalid_id");
  });

  it("refuses ids with ../ or odd characters and never touches files outside the database folder", async () => {
    h = await withPluginAndClient();
    for (const raw of ["..%2F..%2Fhost", "a%2F..%2Fb", ".hidden", "..hidden", "back%5Cslash", "%00nul", "new%0Aline", "x".repeat(300)]) {
      const res = await h.request("PUT", `${V1}/instance/${raw}`, { body: { type: "test.plugin", primary_user: "@bot:test" } });
      expect([res.status, res.json?.errcode], raw).toEqual([400, "invalid_id"]);
      const get = await h.request("GET", `${V1}/instance/${raw}/database`);
      expect(get.status, raw).toBe(400);
    }
    // Other characters are allowed (maubot allows any id); the file name stays inside the folder.
    const spaced = await h.request("PUT", `${V1}/instance/My%20Bot%3B1`, { body: { type: "test.plugin", primary_user: "@bot:test" } });
    expect([spaced.status, spaced.json.id]).toEqual([201, "my bot;1"]);
    expect(existsSync(join(h.config.plugin_databases.sqlite, "my bot;1.db"))).toBe(true);
    expect((await h.request("GET", "/_matrix/maubot/plugin/my%20bot%3B1/state", { token: null })).json.instanceId).toBe("my bot;1");
    expect((await h.request("DELETE", `${V1}/instance/my%20bot%3B1`)).status).toBe(204);
    // Unencoded ../ is resolved by the URL parser before it reaches the API: it lands on another route.
    const dotted = await h.request("GET", `${V1}/instance/../plugins`);
    expect(dotted.status).toBe(200);
    expect((await h.request("GET", `${V1}/instances`)).json).toEqual([]);
    expect((await h.request("GET", `${V1}/client/..%2F..%2Fetc`)).json.errcode).toBe("client_not_found");
    expect((await h.request("GET", `${V1}/plugin/..%2F..%2Fetc`)).json.errcode).toBe("plugin_not_found");
  });

  it("bounds ids so their database file name fits; an over-long id stored by an older version can be renamed and deleted", async () => {
    h = await withPluginAndClient();
    const body = { type: "test.plugin", primary_user: "@bot:test" };
    for (const raw of ["x".repeat(101), "é".repeat(101), "😀".repeat(51)]) {
      const res = await h.request("PUT", `${V1}/instance/${encodeURIComponent(raw)}`, { body });
      expect([res.status, res.json.errcode], raw).toEqual([400, "invalid_id"]);
      expect(res.json.error).toContain("1 to 100 characters");
    }
    const longest = "y".repeat(100);
    expect((await h.request("PUT", `${V1}/instance/${longest}`, { body })).json.state).toBe("running");
    expect(existsSync(join(h.config.plugin_databases.sqlite, `${longest}.db`))).toBe(true);
    expect((await h.request("DELETE", `${V1}/instance/${longest}`)).status).toBe(204);

    // Rows as an older version stored them: 255 characters, no database file possible.
    const old = (c: string) => c.repeat(255);
    for (const c of ["a", "b"]) {
      h.store.putInstance({ id: old(c), type: "test.plugin", enabled: false, primary_user: "@bot:test", config: "", database_engine: "sqlite", isolated: false, state: "stopped", last_error: null });
    }
    expect((await h.request("GET", `${V1}/instance/${old("a")}`)).json.id).toBe(old("a"));
    const renamed = await h.request("PUT", `${V1}/instance/${old("a")}`, { body: { id: "renamed" } });
    expect([renamed.status, renamed.json.id]).toEqual([200, "renamed"]);
    const deleted = await h.request("DELETE", `${V1}/instance/${old("b")}`);
    expect(deleted.status).toBe(204);
    expect((await h.request("GET", `${V1}/instances`)).json.map((i: { id: string }) => i.id)).toEqual(["renamed"]);
    expect((await h.request("GET", `${V1}/health`, { token: null })).status).toBe(200);
  });
});
