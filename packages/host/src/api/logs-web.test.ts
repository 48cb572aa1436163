import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { makeBundle, testManifest } from "../../test-support/plugin-fixtures.js";
import { startApiHarness, type ApiHarness } from "../../test-support/api-harness.js";
import { componentLogger } from "../logging/index.js";

let h: ApiHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const V1 = "/_matrix/maubot/v1";

/** A websocket client collecting every message and the close code, bounded in time. */
function openLogSocket(base: string) {
  const ws = new WebSocket(`${base.replace("http", "ws")}${V1}/logs`);
  const messages: any[] = [];
  let closed: { code: number } | null = null;
  ws.on("message", (data) => messages.push(JSON.parse(data.toString())));
  ws.on("close", (code) => {
    closed = { code };
  });
  const opened = new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const until = async (what: string, check: () => boolean, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(messages).slice(0, 500)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { ws, messages, opened, until, closed: () => closed };
}

// Answers with what it received, so the round trip can be checked field by field.
const WEB_ECHO_PLUGIN = `
export default class WebEcho {
  async __botyardStart(ctx) { this.ctx = ctx; }
  async __botyardStop() {}
  async __botyardEvent() {}
  async __botyardWeb(req) {
    if (req.path === "/teapot") return { status: 418, headers: { "x-plugin": "yes", "content-length": "3", "transfer-encoding": "chunked" }, body: "short and stout" };
    return { status: 201, headers: { "content-type": "application/json", "x-plugin": "yes" }, body: JSON.stringify({
      instance: this.ctx.instanceId, method: req.method, path: req.path, query: req.query,
      header: req.headers["x-test"] ?? null, body: new TextDecoder().decode(req.body),
    }) };
  }
  async __botyardConfigUpdate() {}
  __botyardCommands() { return []; }
}`;

describe("log websocket", () => {
  it("authenticates with the token as first frame, sends history, then a line logged after connecting", async () => {
    h = await startApiHarness();
    const log = componentLogger(h.logging.logger, "api-test");
    log.info("before connecting");
    const socket = openLogSocket(h.base);
    await socket.opened;
    socket.ws.send(h.token);
    await socket.until("auth and history", () => socket.messages.length >= 2);
    expect(socket.messages[0]).toEqual({ auth_success: true });
    const history = socket.messages[1].history as Array<{ msg: string }>;
    expect(history.some((e) => e.msg === "before connecting")).toBe(true);
    log.warn({ instance_id: "inst1" }, "after connecting");
    await socket.until("the live line", () => socket.messages.some((m) => m.msg === "after connecting"));
    const live = socket.messages.find((m) => m.msg === "after connecting");
    expect(live).toMatchObject({ levelname: "WARNING", name: "api-test", instance_id: "inst1", time: expect.any(String), id: expect.any(String) });
    socket.ws.close();
  });

  it("answers a wrong token with auth_success false and closes with 4000 when no valid token comes in time", async () => {
    h = await startApiHarness({ limits: { logAuthTimeoutMs: 300 } });
    const socket = openLogSocket(h.base);
    await socket.opened;
    socket.ws.send("wrong token");
    await socket.until("close", () => socket.closed() !== null);
    expect(socket.messages).toEqual([{ auth_success: false }]);
    expect(socket.closed()).toEqual({ code: 4000 });
  });

  it("closes authenticated log sockets with 1012 when the server shuts down", async () => {
    h = await startApiHarness();
    const socket = openLogSocket(h.base);
    await socket.opened;
    socket.ws.send(h.token);
    await socket.until("auth", () => socket.messages.length >= 2);
    await h.server.close();
    await socket.until("close", () => socket.closed() !== null);
    expect(socket.closed()).toEqual({ code: 1012 });
  });
});

describe("log websocket feature switch", () => {
  it("refuses the websocket upgrade when api_features.log is off", async () => {
    h = await startApiHarness({ features: { log: false } });
    const ws = new WebSocket(`${h.base.replace("http", "ws")}${V1}/logs`);
    const status = await new Promise<number>((resolve) => {
      ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.once("error", () => resolve(-1));
    });
    expect(status).toBe(404);
  });
});

describe("plugin web endpoints", () => {
  it("dispatches method, path, query, headers and body to the instance and returns its answer unauthenticated", async () => {
    h = await startApiHarness();
    h.addClient("@bot:test");
    await h.request("POST", `${V1}/plugins/upload`, { raw: makeBundle({ manifest: testManifest({ id: "web.echo", database: false, webapp: true }), files: { "index.js": WEB_ECHO_PLUGIN } }) });
    const created = await h.request("PUT", `${V1}/instance/web1`, { body: { type: "web.echo", primary_user: "@bot:test" } });
    expect(created.json.state).toBe("running");
    const res = await h.request("POST", "/_matrix/maubot/plugin/web1/hook/a?x=1&y=2", { raw: "payload", token: null, headers: { "x-test": "hello" } });
    expect(res.status).toBe(201);
    expect(res.headers.get("x-plugin")).toBe("yes");
    expect(res.json).toEqual({ instance: "web1", method: "POST", path: "/hook/a", query: "x=1&y=2", header: "hello", body: "payload" });
    const root = await h.request("GET", "/_matrix/maubot/plugin/web1", { token: null });
    expect(root.json.path).toBe("/");
    const teapot = await h.request("GET", "/_matrix/maubot/plugin/web1/teapot", { token: null });
    expect([teapot.status, teapot.text]).toEqual([418, "short and stout"]);
  });

  it("answers 404 for an unknown instance and the plugin's 404 for a stopped one", async () => {
    h = await startApiHarness();
    h.addClient("@bot:test");
    const unknown = await h.request("GET", "/_matrix/maubot/plugin/ghost/x", { token: null });
    expect([unknown.status, unknown.json.errcode]).toEqual([404, "instance_not_found"]);
    await h.request("POST", `${V1}/plugins/upload`, { raw: makeBundle({ manifest: testManifest({ id: "web.echo", database: false, webapp: true }), files: { "index.js": WEB_ECHO_PLUGIN } }) });
    await h.request("PUT", `${V1}/instance/web2`, { body: { type: "web.echo", primary_user: "@bot:test", enabled: false } });
    const stopped = await h.request("GET", "/_matrix/maubot/plugin/web2/x", { token: null });
    expect(stopped.status).toBe(404);
  });
});
