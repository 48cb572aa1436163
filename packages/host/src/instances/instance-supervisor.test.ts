import { readdir } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { makeBundle, messageEvent, testManifest, testPluginSource } from "../../test-support/plugin-fixtures.js";
import { createTestHost, type TestHost } from "../../test-support/test-host.js";
import type { InstanceSupervisorOptions } from "./instance-supervisor.js";

let host: TestHost | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

async function setup(options: Partial<InstanceSupervisorOptions> = {}, clients = ["@bot:test"]): Promise<TestHost> {
  host = await createTestHost({ restart: { baseDelayMs: 20, maxDelayMs: 200, maxAttempts: 4, stableAfterMs: 60_000 }, ...options });
  for (const id of clients) host.addClient(id);
  return host;
}

async function install(h: TestHost, manifest: Record<string, unknown> = {}, files: Record<string, string> = {}) {
  return h.registry.install(makeBundle({ manifest: testManifest(manifest), files }), { allowOverride: true });
}

interface PluginState {
  instanceId: string;
  userId: string;
  config: Record<string, unknown>;
  updates: number;
  count: number | null;
  moduleToken: string;
  threadId: number;
  marker: string;
  webappUrl: string | null;
}

async function webState(h: TestHost, id: string): Promise<PluginState> {
  const res = await h.supervisor.handleWeb(id, { method: "GET", path: "/state", query: "", headers: {}, body: new Uint8Array() });
  expect(res.status).toBe(200);
  return JSON.parse(String(res.body)) as PluginState;
}

function logsOf(h: TestHost, instanceId: string): string[] {
  return h.logs.filter((l) => l.name === `instance.${instanceId}`).map((l) => String(l.msg));
}

describe("InstanceSupervisor", () => {
  it("starts an instance, stores each state change, routes events and Matrix calls of its client", async () => {
    const h = await setup({}, ["@bot:test", "@other:test"]);
    await install(h, { webapp: true });
    const status = await h.supervisor.create(h.instanceRow("i1", "test.plugin"));
    expect(status).toEqual({ state: "running", lastError: null });
    expect(h.store.getInstance("i1")).toMatchObject({ state: "running", last_error: null });
    const state = await webState(h, "i1");
    expect(state).toMatchObject({ instanceId: "i1", userId: "@bot:test", webappUrl: "http://127.0.0.1:29316/_matrix/maubot/plugin/i1" });

    h.supervisor.dispatch("@other:test", messageEvent("echo not for us"));
    h.supervisor.dispatch("@bot:test", messageEvent("echo hello"));
    await h.clients.waitFor(() => h.clients.texts().length > 0);
    expect(h.clients.calls).toEqual([{ clientId: "@bot:test", method: "sendText", params: { roomId: "!room:test", text: "A:hello" } }]);
    expect(await h.supervisor.commandsOf("@bot:test")).toEqual([{ instanceId: "i1", commands: [{ name: "count", aliases: [], usage: "!count", help: "counts" }] }]);

    await h.supervisor.stop("i1");
    expect(h.store.getInstance("i1")?.state).toBe("stopped");
    const transitions = logsOf(h, "i1").filter((m) => m.includes("→"));
    expect(transitions).toEqual(["instance i1: stopped → starting", "instance i1: starting → running", "instance i1: running → stopping", "instance i1: stopping → stopped"]);
    expect(await h.supervisor.handleWeb("i1", { method: "GET", path: "/state", query: "", headers: {}, body: new Uint8Array() })).toMatchObject({ status: 404 });
  });

  it("marks an instance whose start throws as failed with the error, without a restart", async () => {
    const h = await setup();
    await install(h);
    let restarts = 0;
    h.supervisor.on("restartScheduled", () => restarts++);
    const status = await h.supervisor.create(h.instanceRow("bad", "test.plugin", { config: "fail_start: true" }));
    expect(status).toEqual({ state: "failed", lastError: "boom in start" });
    expect(h.store.getInstance("bad")).toMatchObject({ state: "failed", last_error: "boom in start" });
    expect(restarts).toBe(0);
  });

  it("logs a handler's throw against its instance; the instance and its sibling keep working", async () => {
    const h = await setup({}, ["@a:test", "@b:test"]);
    await install(h);
    await h.supervisor.create(h.instanceRow("a", "test.plugin", { primary_user: "@a:test" }));
    await h.supervisor.create(h.instanceRow("b", "test.plugin", { primary_user: "@b:test" }));
    const before = await webState(h, "b");
    h.supervisor.dispatch("@a:test", messageEvent("throw"));
    h.supervisor.dispatch("@a:test", messageEvent("task-throw"));
    h.supervisor.dispatch("@b:test", messageEvent("echo sibling"));
    h.supervisor.dispatch("@a:test", messageEvent("echo still here"));
    await h.clients.waitFor(() => h.clients.texts().length === 2);
    await h.clients.waitFor(() => logsOf(h, "a").some((m) => m.includes("task boom")));
    expect(h.clients.texts().sort()).toEqual(["A:sibling", "A:still here"]);
    expect(logsOf(h, "a").some((m) => m.includes("handler boom"))).toBe(true);
    expect(logsOf(h, "b").some((m) => m.includes("boom"))).toBe(false);
    expect(h.supervisor.status("a").state).toBe("running");
    // Same worker as before: nothing was restarted.
    expect((await webState(h, "b")).moduleToken).toBe(before.moduleToken);
  });

  it("caps how many log records a worker sends per second and says how many it dropped", async () => {
    const h = await setup();
    await install(h);
    await h.supervisor.create(h.instanceRow("noisy", "test.plugin"));
    h.supervisor.dispatch("@bot:test", messageEvent("log-flood"));
    await h.clients.waitFor(() => logsOf(h, "noisy").includes("after flood"));
    const floods = logsOf(h, "noisy").filter((m) => m.startsWith("flood "));
    expect(floods.length).toBeLessThanOrEqual(500);
    expect(floods.length).toBeGreaterThan(0);
    expect(h.logs.some((l) => /^\d+ log records dropped/.test(String(l.msg)))).toBe(true);
  });

  it("kills a worker that loops forever (missed heartbeat) and restarts its instances", async () => {
    const h = await setup({ heartbeatIntervalMs: 100, heartbeatTimeoutMs: 2000 });
    await install(h);
    await h.supervisor.create(h.instanceRow("looper", "test.plugin"));
    const before = await webState(h, "looper");
    const failed = h.waitForState("looper", "failed");
    h.supervisor.dispatch("@bot:test", messageEvent("loop"));
    await failed;
    expect(h.supervisor.status("looper").lastError).toMatch(/^heartbeat: the worker did not answer a heartbeat/);
    await h.waitForState("looper", "running");
    const after = await webState(h, "looper");
    expect(after.moduleToken).not.toBe(before.moduleToken);
  });

  it("kills a worker that allocates without bound (resourceLimits); the host and other plugins are unharmed", async () => {
    const h = await setup({ resourceLimits: { maxOldGenerationSizeMb: 48 } }, ["@hog:test", "@calm:test"]);
    await install(h);
    await install(h, { id: "other.plugin" });
    await h.supervisor.create(h.instanceRow("hog", "test.plugin", { primary_user: "@hog:test" }));
    await h.supervisor.create(h.instanceRow("calm", "other.plugin", { primary_user: "@calm:test" }));
    const hostHeapBefore = process.memoryUsage().heapUsed;
    const failed = h.waitForState("hog", "failed");
    h.supervisor.dispatch("@hog:test", messageEvent("alloc"));
    await failed;
    expect(h.supervisor.status("hog").lastError).toMatch(/^memory: the worker ran out of JS heap .*out of memory/);
    expect(h.supervisor.status("calm").state).toBe("running");
    expect((await webState(h, "calm")).instanceId).toBe("calm");
    // The hog's heap lived in its worker, not here.
    expect(process.memoryUsage().heapUsed - hostHeapBefore).toBeLessThan(48 * 1024 * 1024);
    await h.waitForState("hog", "running");
  });

  it("keeps an isolated instance running when its plugin's shared worker crashes", async () => {
    const h = await setup({}, ["@a:test", "@b:test", "@c:test"]);
    await install(h);
    await h.supervisor.create(h.instanceRow("a", "test.plugin", { primary_user: "@a:test" }));
    await h.supervisor.create(h.instanceRow("b", "test.plugin", { primary_user: "@b:test" }));
    await h.supervisor.create(h.instanceRow("c", "test.plugin", { primary_user: "@c:test", isolated: true }));
    const [a, b, c] = await Promise.all(["a", "b", "c"].map((id) => webState(h, id)));
    expect(a!.threadId).toBe(b!.threadId);
    expect(c!.threadId).not.toBe(a!.threadId);
    const aFailed = h.waitForState("a", "failed");
    const bFailed = h.waitForState("b", "failed");
    h.supervisor.dispatch("@a:test", messageEvent("exit"));
    await Promise.all([aFailed, bFailed]);
    expect(h.supervisor.status("a").lastError).toMatch(/^crash: the worker exited with code 3/);
    expect(h.supervisor.status("c").state).toBe("running");
    expect((await webState(h, "c")).moduleToken).toBe(c!.moduleToken);
    await Promise.all([h.waitForState("a", "running"), h.waitForState("b", "running")]);
  });

  it("restarts with exponential backoff up to a cap, then leaves the instance failed with the error", async () => {
    const h = await setup({ restart: { baseDelayMs: 20, maxDelayMs: 50, maxAttempts: 3, stableAfterMs: 60_000 } });
    await install(h);
    const delays: number[] = [];
    h.supervisor.on("restartScheduled", (info) => delays.push(info.delayMs));
    const gaveUp = new Promise<{ attempts: number }>((resolve) => h.supervisor.once("gaveUp", resolve));
    await h.supervisor.create(h.instanceRow("crashy", "test.plugin", { config: "exit_start: true" }));
    expect((await gaveUp).attempts).toBe(3);
    expect(delays).toEqual([20, 40, 50]);
    expect(h.supervisor.status("crashy")).toEqual({ state: "failed", lastError: "crash: the worker exited with code 2 (gave up after 3 restarts)" });
    expect(h.store.getInstance("crashy")?.last_error).toMatch(/gave up after 3 restarts/);
  });

  it("keeps the instance database across a worker restart and a bundle upgrade", async () => {
    const h = await setup();
    await install(h);
    await h.supervisor.create(h.instanceRow("counter", "test.plugin"));
    const count = async (n: number) => {
      h.supervisor.dispatch("@bot:test", messageEvent("count"));
      await h.clients.waitFor(() => h.clients.texts().includes(`count ${n}`));
    };
    await count(1);
    await count(2);
    const failed = h.waitForState("counter", "failed");
    h.supervisor.dispatch("@bot:test", messageEvent("exit"));
    await failed;
    await h.waitForState("counter", "running");
    await count(3);

    await h.registry.install(makeBundle({ manifest: testManifest({ version: "2.0.0" }), files: { "index.js": testPluginSource({ marker: "B" }) } }), { allowOverride: true });
    expect(h.supervisor.status("counter").state).toBe("running");
    const state = await webState(h, "counter");
    expect(state.marker).toBe("B");
    expect(state.count).toBe(3);
    await count(4);
    expect(await readdir(h.dirs.databases)).toContain("counter.db");
  });

  it("runs two plugins whose modules share names side by side", async () => {
    const h = await setup({}, ["@a:test", "@b:test"]);
    const source = `import { NAME } from "./lib/util.js";\n${testPluginSource().replaceAll('marker: "A"', "marker: NAME")}`;
    for (const [id, name] of [["alpha.plugin", "alpha"], ["beta.plugin", "beta"]] as const) {
      await h.registry.install(
        makeBundle({ manifest: testManifest({ id }), files: { "index.js": source, "lib/util.js": `export const NAME = ${JSON.stringify(name)};` } }),
        { allowOverride: false },
      );
    }
    await h.supervisor.create(h.instanceRow("a", "alpha.plugin", { primary_user: "@a:test" }));
    await h.supervisor.create(h.instanceRow("b", "beta.plugin", { primary_user: "@b:test" }));
    expect((await webState(h, "a")).marker).toBe("alpha");
    expect((await webState(h, "b")).marker).toBe("beta");
  });

  it("rolls a failed upgrade back: the old version runs again and nothing of the new one stays", async () => {
    const h = await setup();
    await install(h, { config: true }, { "base-config.yaml": "fail_start: false\n" });
    await h.supervisor.create(h.instanceRow("keep", "test.plugin"));
    await webState(h, "keep");
    const uploadBefore = (await readdir(h.dirs.upload)).sort();
    const broken = makeBundle({
      manifest: testManifest({ version: "3.0.0", config: true }),
      files: { "base-config.yaml": "fail_start: true\n", "index.js": testPluginSource({ marker: "broken" }) },
    });
    await expect(h.registry.install(broken, { allowOverride: true })).rejects.toMatchObject({ errcode: "plugin_reload_fail" });
    expect(h.registry.get("test.plugin")?.version).toBe("1.0.0");
    expect(h.store.getPlugin("test.plugin")?.version).toBe("1.0.0");
    expect((await readdir(h.dirs.upload)).sort()).toEqual(uploadBefore);
    expect(h.supervisor.status("keep")).toEqual({ state: "running", lastError: null });
    expect((await webState(h, "keep")).marker).toBe("A");
  });

  it("rolls back an upgrade whose code does not load, naming the error; the old version runs again", async () => {
    const h = await setup();
    await install(h);
    await h.supervisor.create(h.instanceRow("steady", "test.plugin"));
    const broken = makeBundle({ manifest: testManifest({ version: "4.0.0" }), files: { "index.js": "throw new Error('import boom');\nexport default class X {}" } });
    await expect(h.registry.install(broken, { allowOverride: true })).rejects.toMatchObject({
      errcode: "plugin_reload_fail",
      message: expect.stringMatching(/steady: the plugin's code failed to load: import boom/),
    });
    expect(h.registry.get("test.plugin")?.version).toBe("1.0.0");
    expect(h.supervisor.status("steady").state).toBe("running");
    expect((await webState(h, "steady")).marker).toBe("A");
  });

  it("fails an instance whose main_class is not a plugin class with a clear last_error (checked only when it starts)", async () => {
    const h = await setup();
    const cases: Array<[string, string, RegExp]> = [
      ["fn.plugin", "export default function plugin() {}", /the export "default" of index\.js is not a class/],
      ["bare.plugin", "export default class X { async __botyardStart() {} }", /the class "default" lacks __botyardStop, .*; extend Plugin from @botyard\/sdk/],
      ["boom.plugin", "throw new Error('import boom');\nexport default class X {}", /the plugin's code failed to load: import boom/],
    ];
    for (const [id, source, expected] of cases) {
      await h.registry.install(makeBundle({ manifest: testManifest({ id }), files: { "index.js": source } }), { allowOverride: false });
      const status = await h.supervisor.create(h.instanceRow(id.split(".")[0]!, id));
      expect(status.state).toBe("failed");
      expect(status.lastError).toMatch(expected);
    }
  });

  it("keeps an instance with an invalid config stopped, naming the path; refuses an invalid change of a running one", async () => {
    const h = await setup();
    const schema = { type: "object", properties: { poll: { type: "object", properties: { interval: { type: "integer", minimum: 10 } } } } };
    await install(h, { config: true, config_schema: schema }, { "base-config.yaml": "poll:\n  interval: 60\n" });
    const bad = await h.supervisor.create(h.instanceRow("cfg", "test.plugin", { config: "poll:\n  interval: 5\n" }));
    expect(bad.state).toBe("stopped");
    expect(bad.lastError).toMatch(/at \/poll\/interval: must be >= 10/);
    expect(h.store.getInstance("cfg")?.last_error).toMatch(/\/poll\/interval/);
    expect(logsOf(h, "cfg")).toEqual(["instance cfg stays stopped: invalid config at /poll/interval: must be >= 10"]);
    // A YAML syntax error: one log line, the snippet only in last_error.
    const broken = await h.supervisor.create(h.instanceRow("yamlbad", "test.plugin", { config: "poll: interval: 5\n" }));
    expect(broken.lastError).toContain("\n");
    expect(logsOf(h, "yamlbad")).toEqual([expect.stringMatching(/^instance yamlbad stays stopped: config is not valid YAML: [^\n]+ at line 1, column 7$/)]);

    await h.supervisor.update("cfg", { config: "poll:\n  interval: 30\n" });
    expect((await h.supervisor.start("cfg")).state).toBe("running");
    expect((await webState(h, "cfg")).config).toEqual({ poll: { interval: 30 } });

    await expect(h.supervisor.update("cfg", { config: "poll:\n  interval: oops\n" })).rejects.toMatchObject({
      errcode: "invalid_config",
      message: expect.stringMatching(/at \/poll\/interval: must be integer/),
    });
    expect(h.store.getInstance("cfg")?.config).toBe("poll:\n  interval: 30\n");

    await h.supervisor.update("cfg", { config: "poll:\n  interval: 90\n" });
    const updated = await webState(h, "cfg");
    expect(updated.config).toEqual({ poll: { interval: 90 } });
    expect(updated.updates).toBe(1);
  });

  it("waits for a plugin's stop only up to the stop timeout", async () => {
    const h = await setup({ stopTimeoutMs: 300 });
    await install(h);
    await h.supervisor.create(h.instanceRow("slow", "test.plugin", { config: "slow_stop: true" }));
    const status = await h.supervisor.stop("slow");
    expect(status.state).toBe("stopped");
    expect(status.lastError).toMatch(/stopping slow did not answer within 300 ms/);
  });

  it("stops every instance and worker on stopAll, even when a plugin's stop hangs", async () => {
    const h = await setup({ stopTimeoutMs: 300 }, ["@a:test", "@b:test"]);
    await install(h);
    await h.supervisor.create(h.instanceRow("hang", "test.plugin", { primary_user: "@a:test", config: "slow_stop: true" }));
    await h.supervisor.create(h.instanceRow("quick", "test.plugin", { primary_user: "@b:test", isolated: true }));
    await h.supervisor.stopAll();
    expect(h.supervisor.status("hang").state).toBe("stopped");
    expect(h.supervisor.status("quick")).toEqual({ state: "stopped", lastError: null });
    expect(h.store.listInstances().map((r) => r.state)).toEqual(["stopped", "stopped"]);
  });

  it("answers 504 when a web handler does not answer in time", async () => {
    const h = await setup({ webTimeoutMs: 300 });
    await install(h);
    await h.supervisor.create(h.instanceRow("web", "test.plugin"));
    const res = await h.supervisor.handleWeb("web", { method: "GET", path: "/slow", query: "", headers: {}, body: new Uint8Array() });
    expect(res.status).toBe(504);
  });

  it("reloads a plugin from its file (new worker, same instances) and refuses ids that cannot name a file", async () => {
    const h = await setup();
    await install(h);
    await h.supervisor.create(h.instanceRow("r1", "test.plugin"));
    const before = await webState(h, "r1");
    await h.registry.reload("test.plugin");
    expect(h.supervisor.status("r1").state).toBe("running");
    const afterReload = await webState(h, "r1");
    expect(afterReload.moduleToken).not.toBe(before.moduleToken);
    // Stopped and started again the way a bundle replacement does it: a new worker loads the code again.
    const suspended = await h.supervisor.suspendPlugin("test.plugin");
    expect(await h.supervisor.resumePlugin("test.plugin", suspended)).toEqual([]);
    expect((await webState(h, "r1")).moduleToken).not.toBe(afterReload.moduleToken);
    await expect(h.supervisor.create(h.instanceRow("../escape", "test.plugin"))).rejects.toMatchObject({ errcode: "invalid_id" });
  });

  it("lets plugin code act only for the instances of its own worker, even when it posts on its port directly", async () => {
    const h = await setup({}, ["@victim:test", "@rogue:test"]);
    await install(h, { id: "victim.plugin" });
    const rogue = testPluginSource().replace(
      "async __botyardEvent(event) {",
      `async __botyardEvent(event) {
    if (event.content.body === "spoof") {
      const { parentPort } = await import("node:worker_threads");
      parentPort.postMessage({ type: "CLIENT_CALL", callId: 999999, instanceId: "victim", method: "sendText", params: { roomId: "!r", text: "spoofed" } });
      parentPort.postMessage({ type: "LOG", instanceId: "victim", level: "error", msg: "spoofed log" });
      this.ctx.log.error("posing", { instance_id: "victim", client_id: "@victim:test", name: "instance.victim" });
      this.ctx.log.info("odd fields", { fn: () => 1, n: 2 });
      await this.ctx.callClient("sendText", { roomId: "!r", text: "done" });
      return;
    }`,
    );
    await h.registry.install(makeBundle({ manifest: testManifest({ id: "rogue.plugin" }), files: { "index.js": rogue } }), { allowOverride: false });
    await h.supervisor.create(h.instanceRow("victim", "victim.plugin", { primary_user: "@victim:test" }));
    await h.supervisor.create(h.instanceRow("rogue", "rogue.plugin", { primary_user: "@rogue:test" }));
    h.supervisor.dispatch("@rogue:test", messageEvent("spoof"));
    await h.clients.waitFor(() => h.clients.texts().includes("done"));
    expect(h.clients.calls.map((c) => c.clientId)).toEqual(["@rogue:test"]);
    expect(logsOf(h, "victim").includes("spoofed log")).toBe(false);
    expect(h.logs.some((l) => l.msg === "spoofed log" && l.claimedInstance === "victim" && l.worker === "plugin:rogue.plugin")).toBe(true);
    // Its own log fields cannot name another instance or client either (admin notices name the subject by them).
    expect(h.logs.find((l) => l.msg === "posing")).toMatchObject({ name: "instance.rogue", instance_id: "rogue" });
    expect(h.logs.find((l) => l.msg === "posing")?.client_id).toBeUndefined();
    // Fields that cannot cross the thread boundary as they are arrive as JSON.
    expect(h.logs.find((l) => l.msg === "odd fields")).toMatchObject({ n: 2 });
  });

  it("renames and deletes an instance with its database", async () => {
    const h = await setup();
    await install(h);
    await h.supervisor.create(h.instanceRow("old", "test.plugin"));
    h.supervisor.dispatch("@bot:test", messageEvent("count"));
    await h.clients.waitFor(() => h.clients.texts().includes("count 1"));
    await h.supervisor.update("old", { id: "new" });
    expect(h.supervisor.status("new").state).toBe("running");
    expect((await webState(h, "new")).count).toBe(1);
    await h.supervisor.delete("new");
    expect(h.store.getInstance("new")).toBeUndefined();
    expect((await readdir(h.dirs.databases)).filter((n) => n.startsWith("new.db") || n.startsWith("old.db"))).toEqual([]);
  });
});
