import { getHeapStatistics } from "node:v8";
import { afterEach, describe, expect, it } from "vitest";
import { makeBundle, testManifest } from "../../test-support/plugin-fixtures.js";
import { startApiHarness, type ApiHarness, type ApiHarnessOptions } from "../../test-support/api-harness.js";

let h: ApiHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const V1 = "/_matrix/maubot/v1";
const MiB = 1024 * 1024;
const WEB = "/_matrix/maubot/plugin/big1";

/** The test plugin (GET /bytes?mib=n, GET /state) running as instance big1. */
async function bytesPlugin(options: ApiHarnessOptions): Promise<ApiHarness> {
  h = await startApiHarness(options);
  h.addClient("@bot:test");
  const upload = await h.request("POST", `${V1}/plugins/upload`, { raw: makeBundle({ manifest: testManifest({ id: "web.bytes", webapp: true }) }) });
  expect(upload.status).toBe(201);
  const created = await h.request("PUT", `${V1}/instance/big1`, { body: { type: "web.bytes", primary_user: "@bot:test" } });
  expect(created.json.state).toBe("running");
  return h;
}

describe("plugin web answers", () => {
  it("streams a body larger than one chunk from the worker with its length, byte for byte", async () => {
    const h = await bytesPlugin({ supervisor: { maxWebResponseBytes: 4 * MiB } });
    const res = await fetch(`${h.base}${WEB}/bytes?mib=3`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe(String(3 * MiB));
    const body = new Uint8Array(await res.arrayBuffer());
    expect(body.length).toBe(3 * MiB);
    expect(body.every((byte, i) => byte === i % 251)).toBe(true);

    const text = await fetch(`${h.base}${WEB}/bytes?mib=3&as=string`).then((r) => r.text());
    expect(text.length).toBe(3 * MiB);
    expect(/^x+$/.test(text)).toBe(true);

    // A small answer still comes in one piece (the echo plugin's /count is one of those).
    const state = await h.request("GET", `${WEB}/state`, { token: null });
    expect([state.status, state.json.instanceId]).toEqual([200, "big1"]);
  });

  it("refuses an answer over the limit with 502 plugin_response_too_large before any of it reaches the host, which does not keep it; the plugin keeps answering", async () => {
    const h = await bytesPlugin({ supervisor: { maxWebResponseBytes: 4 * MiB } });
    expect((await h.request("GET", `${WEB}/state`, { token: null })).status).toBe(200);
    const rssBefore = process.memoryUsage().rss;
    // This thread's isolate only (a worker's memory is its own): the 32 MiB body never lands here.
    const before = getHeapStatistics().external_memory;
    const res = await h.request("GET", `${WEB}/bytes?mib=32`, { token: null });
    const grown = getHeapStatistics().external_memory - before;
    expect(res.status).toBe(502);
    expect(res.json.errcode).toBe("plugin_response_too_large");
    expect(res.json.error).toContain(`${32 * MiB} bytes, over the 4 MiB limit`);
    expect(grown).toBeLessThan(16 * MiB);
    // Nor does the process keep it: the worker collects the body it dropped (checked for up to 5 s).
    for (let i = 0; i < 50 && process.memoryUsage().rss - rssBefore >= 16 * MiB; i++) await new Promise((r) => setTimeout(r, 100));
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(16 * MiB);
    const again = await h.request("GET", `${WEB}/state`, { token: null });
    expect(again.status).toBe(200);
    expect((await h.request("GET", `${V1}/instance/big1`)).json.state).toBe("running");
  });

  it("refuses a request body over the limit with 413 body_too_large without calling the plugin", async () => {
    const h = await bytesPlugin({ limits: { webBodyBytes: 1024 } });
    const res = await h.request("POST", `${WEB}/state`, { raw: Buffer.alloc(4096, 1), token: null });
    expect([res.status, res.json.errcode]).toEqual([413, "body_too_large"]);
    expect((await h.request("GET", `${WEB}/state`, { token: null })).status).toBe(200);
  });
});
