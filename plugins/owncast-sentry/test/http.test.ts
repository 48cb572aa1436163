// The HTTP client against the simulated Owncast: pool bound, timeouts, redirects, User-Agent,
// and the address policy applied on the resolved address.

import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { OwncastHttpClient, USER_AGENT, type Resolver } from "../src/owncast-http.js";
import { isNonPublicAddress } from "../src/address-policy.js";
import { parseSettings } from "../src/settings.js";
import { OwncastSim } from "../../../test/owncast/sim.js";

const toLoopback: Resolver = async () => [{ address: "127.0.0.1", family: 4 }];
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function client(port: number, http_: Record<string, unknown> = {}, resolver: Resolver = toLoopback) {
  const settings = parseSettings({ http: { scheme: "http", port, allow_private_addresses: true, ...http_ } }).http;
  const c = new OwncastHttpClient(settings, resolver);
  cleanups.push(() => c.close());
  return c;
}

async function sim(options = {}) {
  const s = await new OwncastSim(options).start();
  cleanups.push(() => s.stop());
  return s;
}

describe("address policy", () => {
  it.each(["127.0.0.1", "10.1.2.3", "172.20.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "::ffff:7f00:1", "64:ff9b::a00:1", "2002:7f00:1::1", "not-an-ip"])(
    "%s is not public",
    (a) => expect(isNonPublicAddress(a)).toBe(true),
  );
  it.each(["93.184.216.34", "1.1.1.1", "2606:4700::1111"])("%s is public", (a) => expect(isNonPublicAddress(a)).toBe(false));
});

describe("OwncastHttpClient", () => {
  it("https: connects to the checked address, sends the stream's name as Host and SNI, and verifies the certificate against it", async () => {
    const fixture = (f: string) => readFileSync(new URL(`./fixtures/${f}`, import.meta.url), "utf8");
    const cert = fixture("stream.test.cert.pem");
    const seen: string[] = [];
    const server = https.createServer({ key: fixture("stream.test.key.pem"), cert }, (req, res) => {
      seen.push(`${(req.socket as import("node:tls").TLSSocket).servername} ${req.headers.host}`);
      res.end("{}");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const port = (server.address() as AddressInfo).port;
    const settings = parseSettings({ http: { scheme: "https", port, allow_private_addresses: true } }).http;
    const c = new OwncastHttpClient(settings, toLoopback, cert);
    cleanups.push(() => c.close());
    expect((await c.get("stream.test", "/api/status", 1024)).status).toBe(200);
    expect(seen).toEqual([`stream.test stream.test:${port}`]);
    await expect(c.get("other.test", "/api/status", 1024)).rejects.toThrow(/altnames|does not match/i);
    const untrusting = new OwncastHttpClient(settings, toLoopback);
    cleanups.push(() => untrusting.close());
    await expect(untrusting.get("stream.test", "/api/status", 1024)).rejects.toThrow(/self.signed/i);
  });

  it("sends the fixed User-Agent and reads the answer", async () => {
    let ua = "";
    const server = http.createServer((req, res) => {
      ua = req.headers["user-agent"] ?? "";
      res.end('{"ok":true}');
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const res = await client((server.address() as AddressInfo).port).get("anything.example", "/api/status", 1024);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('{"ok":true}');
    expect(ua).toBe(USER_AGENT);
  });

  it("polls a domain carried over from maubot with its own port (host:port) at that port, whatever http.port says", async () => {
    const hosts: string[] = [];
    const server = http.createServer((req, res) => {
      hosts.push(req.headers.host ?? "");
      res.end("{}");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const port = (server.address() as AddressInfo).port;
    const c = client(1, {}, async (name) => (name === "stream.example" ? [{ address: "127.0.0.1", family: 4 }] : []));
    expect((await c.get(`stream.example:${port}`, "/api/status", 1024)).status).toBe(200);
    expect(hosts).toEqual([`stream.example:${port}`]);
    expect(c.linkOf(`stream.example:${port}`)).toBe(`http://stream.example:${port}/`);
    expect(c.linkOf("stream.example")).toBe("http://stream.example:1/");
  });

  it("refuses a name that resolves to a private address unless allowed, checking the resolved address", async () => {
    const s = await sim();
    s.add("sneaky.example");
    const strict = client(s.port, { allow_private_addresses: false });
    await expect(strict.get("sneaky.example", "/api/status", 1024)).rejects.toThrow(/private or reserved/);
    await expect(strict.get("127.0.0.1", "/api/status", 1024)).rejects.toThrow(/private or reserved/);
    expect(s.totalRequests).toBe(0);
    // Every resolved address is checked: a name with only reserved addresses is refused as a whole.
    const mixed = client(s.port, { allow_private_addresses: false, connect_timeout_seconds: 0.3 }, async () => [
      { address: "127.0.0.1", family: 4 },
      { address: "192.0.2.1", family: 4 }, // TEST-NET: reserved too, so nothing is left
    ]);
    await expect(mixed.get("mixed.example", "/api/status", 1024)).rejects.toThrow(/private or reserved/);
    const allowed = await client(s.port).get("sneaky.example", "/api/status", 1024);
    expect(allowed.status).toBe(200);
  });

  it("gives up on a server that never answers after the read timeout", async () => {
    const s = await sim();
    s.add("hang.example", { mode: "hang" });
    const c = client(s.port, { read_timeout_seconds: 0.2 });
    await expect(c.get("hang.example", "/api/status", 1024)).rejects.toThrow(/no data for 200 ms/);
  });

  it("does not follow redirects and bounds the answer size", async () => {
    const s = await sim();
    s.add("redirect.example", { mode: "redirect" });
    s.add("big.example", { name: "x".repeat(5000) });
    const c = client(s.port);
    expect((await c.get("redirect.example", "/api/status", 1024)).status).toBe(302);
    await expect(c.get("big.example", "/api/config", 1024)).rejects.toThrow(/larger than 1024 bytes/);
  });

  it("keeps at most one connection per host and max_sockets in total, closing idle ones to make room", async () => {
    const s = await sim({ autoCreate: {} });
    const c = client(s.port, { max_sockets: 4, concurrency: 4 });
    let peak = 0;
    const probe = setInterval(() => (peak = Math.max(peak, s.openConnections)), 1);
    cleanups.push(() => clearInterval(probe));
    for (let round = 0; round < 2; round++) {
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => c.get(`s${i}.example`, "/api/status", 4096)));
      expect(results.every((r) => r.status === 200)).toBe(true);
    }
    expect(s.totalRequests).toBe(80);
    expect(peak).toBeLessThanOrEqual(5);
    expect(c.openSockets).toBeLessThanOrEqual(4);
    // The same host again and again reuses its one kept-alive connection.
    const before = s.openConnections;
    for (let i = 0; i < 5; i++) await c.get("s39.example", "/api/status", 4096);
    expect(s.openConnections).toBe(before);
  });
});
