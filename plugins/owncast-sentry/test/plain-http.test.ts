// The lean plain-HTTP client against hand-written servers: every framing the plugin may meet
// (Content-Length, chunked, read to close, interim 1xx, no body), split at every byte, size caps,
// keep-alive reuse, stale connections, and the deadline.

import net from "node:net";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { OwncastHttpClient } from "../src/owncast-http.js";
import { PlainHttpPool } from "../src/plain-http.js";
import { parseSettings } from "../src/settings.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface RawServer {
  port: number;
  connections: number;
  requests: string[];
}

/** A TCP server that answers each request head with `answer(socket, index of the request)`. */
async function rawServer(answer: (socket: net.Socket, n: number) => void): Promise<RawServer> {
  const state: RawServer = { port: 0, connections: 0, requests: [] };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buf = "";
    socket.on("data", (d) => {
      buf += d.toString("latin1");
      let end: number;
      while ((end = buf.indexOf("\r\n\r\n")) >= 0) {
        state.requests.push(buf.slice(0, end));
        buf = buf.slice(end + 4);
        answer(socket, state.requests.length - 1);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => server.close(r));
  });
  state.port = (server.address() as AddressInfo).port;
  return state;
}

function client(port: number, http_: Record<string, unknown> = {}) {
  const settings = parseSettings({ http: { scheme: "http", port, allow_private_addresses: true, ...http_ } }).http;
  const c = new OwncastHttpClient(settings, async () => [{ address: "127.0.0.1", family: 4 }]);
  cleanups.push(() => c.close());
  return c;
}

/** Writes `data` one byte per write, so the parser sees every possible split. */
function trickle(socket: net.Socket, data: string, then?: () => void): void {
  let i = 0;
  const step = () => {
    if (socket.destroyed) return;
    if (i >= data.length) return then?.();
    socket.write(data[i++]!);
    setImmediate(step);
  };
  step();
}

describe("plain HTTP client", () => {
  it("sends one well-formed GET with Host, User-Agent and Accept-Encoding identity", async () => {
    const s = await rawServer((sock) => sock.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"));
    const res = await client(s.port).get("a.example", "/api/status", 1024);
    expect(res.status).toBe(200);
    const head = s.requests[0]!.split("\r\n");
    expect(head[0]).toBe("GET /api/status HTTP/1.1");
    expect(head).toContain(`Host: a.example:${s.port}`);
    expect(head).toContain("Accept-Encoding: identity");
    expect(head.some((l) => l.startsWith("User-Agent: OwncastSentry/"))).toBe(true);
  });

  it("reads Content-Length, chunked (with extensions and trailers) and empty answers split at every byte, on one connection", async () => {
    const answers = [
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\":\"bcd\"}",
      "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nabcd\r\n3\r\nefg\r\n0\r\nX-Trailer: y\r\n\r\n",
      "HTTP/1.1 204 No Content\r\n\r\n",
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    ];
    const s = await rawServer((sock, n) => trickle(sock, answers[n]!));
    const c = client(s.port);
    const a = await c.get("a.example", "/api/status", 1024);
    expect([a.status, a.contentType, a.body.toString()]).toEqual([200, "application/json", '{"a":"bcd"}']);
    const b = await c.get("a.example", "/api/status", 1024);
    expect([b.status, b.contentType, b.body.toString()]).toEqual([200, "text/plain", "abcdefg"]);
    const e = await c.get("a.example", "/api/status", 1024);
    expect([e.status, e.body.length]).toEqual([204, 0]);
    const i = await c.get("a.example", "/api/status", 1024);
    expect([i.status, i.body.length]).toEqual([200, 0]);
    expect(s.connections).toBe(1);
  });

  it("reads an answer without length to the end of the connection and does not reuse it", async () => {
    const s = await rawServer((sock) => trickle(sock, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it", () => sock.end()));
    const c = client(s.port);
    expect((await c.get("a.example", "/x", 1024)).body.toString()).toBe("all of it");
    expect((await c.get("a.example", "/x", 1024)).body.toString()).toBe("all of it");
    expect(s.connections).toBe(2);
    expect(c.openSockets).toBe(0);
  });

  it("refuses answers over the size cap, however they are framed, and heads over 16 KiB", async () => {
    const answers = [
      "HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n",
      `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n${"x".repeat(1024)}\r\n1\r\ny\r\n0\r\n\r\n`,
      `HTTP/1.1 200 OK\r\n\r\n${"z".repeat(1100)}`,
      `HTTP/1.1 200 OK\r\nX-Big: ${"h".repeat(17_000)}\r\n\r\n`,
    ];
    const s = await rawServer((sock, n) => sock.write(answers[n]!));
    const c = client(s.port);
    await expect(c.get("a.example", "/x", 1024)).rejects.toThrow(/larger than 1024 bytes/);
    await expect(c.get("a.example", "/x", 1024)).rejects.toThrow(/larger than 1024 bytes/);
    await expect(c.get("a.example", "/x", 1024)).rejects.toThrow(/larger than 1024 bytes/);
    await expect(c.get("a.example", "/x", 1024)).rejects.toThrow(/head larger than/);
  });

  it("refuses what is not HTTP/1.x or is malformed", async () => {
    const answers = ["SSH-2.0-OpenSSH\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"];
    const s = await rawServer((sock, n) => sock.write(answers[n]!));
    const c = client(s.port);
    await expect(c.get("a.example", "/x", 1024)).rejects.toThrow(/not an HTTP/);
    await expect(c.get("a.example", "/x", 1024)).rejects.toThrow(/content-length/);
    await expect(c.get("a.example", "/x", 1024)).rejects.toThrow(/malformed chunked/);
  });

  it("retries once on a fresh connection when a kept-alive one was closed by the server", async () => {
    // The first connection answers once, then drops the next request without a byte.
    const s = await rawServer((sock, n) => (n === 1 ? sock.destroy() : sock.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")));
    const c = client(s.port);
    expect((await c.get("a.example", "/x", 1024)).body.toString()).toBe("ok");
    expect((await c.get("a.example", "/x", 1024)).body.toString()).toBe("ok");
    expect(s.connections).toBe(2);
    expect(s.requests.length).toBe(3);
  });

  it("the retry after a stale connection goes to a new one, not another idle one", async () => {
    // Two connections answer once each; a second request on either is dropped without a byte.
    const served = new WeakMap<net.Socket, number>();
    const s = await rawServer((sock) => {
      const n = (served.get(sock) ?? 0) + 1;
      served.set(sock, n);
      if (n > 1) sock.destroy();
      else sock.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
    const c = client(s.port);
    await Promise.all([c.get("a.example", "/x", 1024), c.get("b.example", "/x", 1024)]);
    expect(c.openSockets).toBe(2);
    expect((await c.get("a.example", "/x", 1024)).body.toString()).toBe("ok");
    expect(s.connections).toBe(3);
  });

  it("closes kept-alive connections left idle past the idle timeout", async () => {
    const s = await rawServer((sock) => sock.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    const pool = new PlainHttpPool({ maxSockets: 4, connectTimeoutMs: 1000, readTimeoutMs: 1000, requestDeadlineMs: 2000, idleTimeoutMs: 100 });
    cleanups.push(() => pool.close());
    const target = { address: "127.0.0.1", family: 4 as const };
    const res = await pool.request("k", target, s.port, "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n", 1024);
    expect(res.body.toString()).toBe("ok");
    expect(pool.openSockets).toBe(1);
    for (let i = 0; i < 50 && pool.openSockets > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(pool.openSockets).toBe(0);
  });

  it("a connection with bytes after its answer is not reused", async () => {
    const s = await rawServer((sock) => sock.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokSMUGGLED"));
    const c = client(s.port);
    expect((await c.get("a.example", "/x", 1024)).body.toString()).toBe("ok");
    expect((await c.get("a.example", "/x", 1024)).body.toString()).toBe("ok");
    expect(s.connections).toBe(2);
  });

  it("ends a trickling answer at the overall deadline, and a silent one at the read timeout", async () => {
    const s = await rawServer((sock, n) => {
      if (n === 1) return; // silent
      sock.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
      const t = setInterval(() => (sock.destroyed ? clearInterval(t) : sock.write("x")), 20);
      sock.on("close", () => clearInterval(t));
    });
    const c = client(s.port, { read_timeout_seconds: 0.15, request_deadline_seconds: 0.4 });
    await expect(c.get("a.example", "/x", 1024)).rejects.toThrow(/no complete answer within 400 ms/);
    await expect(c.get("b.example", "/x", 1024)).rejects.toThrow(/no data for 150 ms/);
  });

  it("closing the client ends requests in flight", async () => {
    const s = await rawServer(() => {});
    const c = client(s.port);
    const pending = c.get("a.example", "/x", 1024);
    await new Promise((r) => setTimeout(r, 50));
    c.close();
    await expect(pending).rejects.toThrow(/closed/);
    expect(c.openSockets).toBe(0);
  });
});
