// The example plugin, built by botyard-cli from plugins/echo and run by the real supervisor:
// the SDK's Plugin class driven through the worker runtime.
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPlugin } from "../../../cli/src/build.js";
import { messageEvent } from "../../test-support/plugin-fixtures.js";
import { createTestHost, type TestHost } from "../../test-support/test-host.js";

const echoDir = fileURLToPath(new URL("../../../../plugins/echo", import.meta.url));
let host: TestHost;
let bundle: Buffer;
let outDir: string;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), "botyard-echo-build-"));
  const built = await buildPlugin(echoDir, { output: outDir });
  bundle = readFileSync(built.path);
  host = await createTestHost();
  host.addClient("@echo:test");
});

afterAll(async () => {
  await host?.close();
  await rm(outDir, { recursive: true, force: true });
});

describe("the echo plugin in a worker", () => {
  it("answers !echo and !ping through the host's client, counts pings in its database, serves /count", async () => {
    await host.registry.install(bundle, { allowOverride: false });
    const status = await host.supervisor.create(host.instanceRow("echo1", "org.botyard.echo", { primary_user: "@echo:test" }));
    expect(status).toEqual({ state: "running", lastError: null });

    host.supervisor.dispatch("@echo:test", messageEvent("!echo hello @room"));
    host.supervisor.dispatch("@echo:test", messageEvent("!ping"));
    await host.clients.waitFor(() => host.clients.calls.length >= 2);
    const texts = host.clients.calls.map((c) => (c.params as { text?: string }).text ?? "");
    expect(texts.some((t) => t.endsWith("hello @room"))).toBe(true);
    expect(texts.some((t) => t.startsWith("Pong!"))).toBe(true);

    const res = await host.supervisor.handleWeb("echo1", { method: "GET", path: "/count", query: "", headers: {}, body: new Uint8Array() });
    expect(res.status).toBe(200);
    expect(JSON.parse(Buffer.from(res.body as Uint8Array).toString())).toEqual({ pings: 1 });

    const commands = await host.supervisor.commandsOf("@echo:test");
    expect(commands[0]?.commands.map((c) => c.name).sort()).toEqual(["count", "echo", "ping"]);

    // The count survives a restart of the plugin's worker.
    const suspended = await host.supervisor.suspendPlugin("org.botyard.echo");
    await host.supervisor.resumePlugin("org.botyard.echo", suspended);
    const again = await host.supervisor.handleWeb("echo1", { method: "GET", path: "/count", query: "", headers: {}, body: new Uint8Array() });
    expect(JSON.parse(Buffer.from(again.body as Uint8Array).toString())).toEqual({ pings: 1 });
  });
});
