import { afterEach, describe, expect, it } from "vitest";
import { startMetricsListener, type MetricsListener } from "./metrics-server.js";

const exposition = { contentType: "text/plain; version=0.0.4; charset=utf-8", render: async () => "botyard_up 1\n" };
let listener: MetricsListener | null = null;
afterEach(async () => {
  await listener?.close();
  listener = null;
});

describe("metrics.listen: a listener of its own", () => {
  it("serves the path to anyone when no secret is set, and nothing else", async () => {
    listener = await startMetricsListener({ hostname: "127.0.0.1", port: 0 }, "/metrics", null, exposition);
    const base = `http://127.0.0.1:${listener.port}`;
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("botyard_up 1\n");
    expect(res.headers.get("content-type")).toBe(exposition.contentType);
    expect((await fetch(`${base}/other`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: "POST" })).status).toBe(405);
  });

  it("asks for the secret as a bearer when one is set", async () => {
    listener = await startMetricsListener({ hostname: "127.0.0.1", port: 0 }, "/m", "s3cret-value", exposition);
    const url = `http://127.0.0.1:${listener.port}/m`;
    const refused = await fetch(url);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ errcode: "auth_token_invalid" });
    expect((await fetch(url, { headers: { Authorization: "Bearer wrong" } })).status).toBe(401);
    expect((await fetch(url, { headers: { Authorization: "Bearer s3cret-value" } })).status).toBe(200);
  });
});
