import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpClient, HttpError } from "./http.js";

describe("HttpClient", () => {
  let server: Server;
  let base: string;
  const pending = new Set<() => void>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === "/json") {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ ua: req.headers["user-agent"] }));
      } else if (req.url === "/big") {
        res.end("x".repeat(2000));
      } else if (req.url === "/big-chunked") {
        // No content-length: the cap has to be enforced while reading.
        res.write("y".repeat(1500));
        res.end("y".repeat(1500));
      } else if (req.url === "/hang") {
        // Headers, then never the body: the timeout must cover the body too.
        res.writeHead(200);
        res.write("partial");
        pending.add(() => res.end());
      } else if (req.url === "/notjson") {
        res.end("<html>");
      } else {
        res.statusCode = 404;
        res.end("no");
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const end of pending) end();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("reads JSON and sends its user agent", async () => {
    const http = new HttpClient({ userAgent: "botyard-test" });
    expect(await http.getJson(`${base}/json`)).toEqual({ ua: "botyard-test" });
    const res = await http.fetch(`${base}/missing`);
    expect(res.status).toBe(404);
    expect(res.text()).toBe("no");
    await expect(http.getJson(`${base}/missing`)).rejects.toThrow(/HTTP 404/);
    await expect(http.getJson(`${base}/notjson`)).rejects.toMatchObject({ kind: "bad_json" });
  });

  it("refuses bodies over the cap, with or without content-length", async () => {
    const http = new HttpClient({ maxBytes: 1000 });
    await expect(http.fetch(`${base}/big`)).rejects.toMatchObject({ kind: "too_large" });
    await expect(http.fetch(`${base}/big-chunked`)).rejects.toMatchObject({ kind: "too_large" });
    expect((await http.fetch(`${base}/big`, { maxBytes: 5000 })).body.byteLength).toBe(2000);
  });

  it("times out a body that never ends", async () => {
    const http = new HttpClient({ timeoutMs: 300 });
    const err = await http.fetch(`${base}/hang`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect(err).toMatchObject({ kind: "timeout" });
  });

  it("reports an unreachable server as a network error", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(new HttpClient().fetch(`http://127.0.0.1:${port}/`)).rejects.toMatchObject({ kind: "network" });
  });

  it("aborts requests in flight when the instance stops", async () => {
    const http = new HttpClient({ timeoutMs: 20_000 });
    const inFlight = http.fetch(`${base}/hang`).catch((e: unknown) => e);
    // Give the request time to reach the server before aborting; the assertion does not depend on it.
    await new Promise((resolve) => setTimeout(resolve, 50));
    http.abortAll();
    expect(await inFlight).toMatchObject({ kind: "aborted" });
    await expect(http.fetch(`${base}/json`)).rejects.toMatchObject({ kind: "aborted" });
  });
});
