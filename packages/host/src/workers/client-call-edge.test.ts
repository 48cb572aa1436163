import { afterEach, describe, expect, it } from "vitest";
import { makeBundle, messageEvent, testManifest, testPluginSource } from "../../test-support/plugin-fixtures.js";
import { createTestHost, type TestHost } from "../../test-support/test-host.js";

let host: TestHost | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

// A plugin that makes calls the contract does not allow and reports each refusal it gets back
// with a call that is allowed.
const probing = testPluginSource().replace(
  "async __botyardEvent(event) {",
  `async __botyardEvent(event) {
    if (event.content.body === "probe") {
      const bad = [
        ["dropTables", { roomId: "!r" }],
        ["sendText", { roomId: 7, text: "x" }],
        ["sendText", null],
        ["uploadMedia", { data: "not bytes", contentType: "image/png" }],
        ["__proto__", {}],
      ];
      for (const [method, params] of bad) {
        try {
          await this.ctx.callClient(method, params);
          await this.ctx.callClient("sendText", { roomId: event.room_id, text: "accepted " + method });
        } catch (err) {
          await this.ctx.callClient("sendText", { roomId: event.room_id, text: "refused: " + err.message });
        }
      }
      return;
    }`,
);

describe("a plugin's Matrix calls at the worker edge", () => {
  it("refuses a call outside the contract with a message naming the method and field; the client never sees it", async () => {
    host = await createTestHost();
    const h = host;
    h.addClient("@bot:test");
    await h.registry.install(makeBundle({ manifest: testManifest({ id: "probe.plugin" }), files: { "index.js": probing } }), { allowOverride: false });
    await h.supervisor.create(h.instanceRow("probe", "probe.plugin"));
    h.supervisor.dispatch("@bot:test", messageEvent("probe"));
    await h.clients.waitFor(() => h.clients.texts().length === 5);
    expect(h.clients.texts()).toEqual([
      "refused: Unknown client method dropTables",
      'refused: sendText: "roomId" must be a string',
      "refused: sendText: the params must be an object",
      'refused: uploadMedia: "data" must be a Uint8Array',
      "refused: Unknown client method __proto__",
    ]);
    expect(h.clients.calls.map((c) => c.method)).toEqual(["sendText", "sendText", "sendText", "sendText", "sendText"]);
  });
});
