// The only code that talks to Owncast servers. Keep-alive connections, a bounded pool in total
// (idle connections are closed, oldest first, to make room), a bound on requests in flight,
// connect/read timeouts and an overall deadline, no redirects, no cookies, a fixed User-Agent.
//
// Names are resolved here, the address policy is applied to the result, and the socket connects
// to exactly that checked address (the name goes only into Host and SNI), so a name cannot pass
// the check and then resolve to 127.0.0.1 at connect time. Connections are pooled by address:
// with HTTPS the pool key also holds the name (SNI), so each stream has its own connection; with
// plain HTTP, names served by one address share a few connections, which is what lets 10,000
// streams on one server run under a 1,024-descriptor limit. A stream never has more than one
// request in flight (the monitor serialises per stream).

import http from "node:http";
import https from "node:https";
import tls from "node:tls";
import { lookup as dnsLookup } from "node:dns/promises";
import { isIP, type Socket } from "node:net";
import { splitHostPort } from "./domain.js";
import { isNonPublicAddress } from "./address-policy.js";
import { FetchError, type FetchResult, type ResolvedAddress } from "./fetch-result.js";
import { PlainHttpPool, StaleSocketError } from "./plain-http.js";
import type { HttpSettings } from "./settings.js";

export { FetchError, type FetchResult, type ResolvedAddress };

export const USER_AGENT = "OwncastSentry/1.2.0 (bot; botyard; +https://git.logal.dev/LogalDeveloper/OwncastSentry)";

/** Name resolution, injectable so tests and benches can map names to 127.0.0.1. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

/** What the rest of the plugin needs from HTTP (so tests can count or refuse requests). */
export interface OwncastFetcher {
  get(domain: string, path: string, maxBytes: number): Promise<FetchResult>;
  /** The public link of a stream as shown to rooms. */
  linkOf(domain: string): string;
  close(): void;
}

/** Counts waiters instead of queueing closures per request: cheap at 10,000 streams. */
class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  get inUse(): number {
    return this.active;
  }
  async acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

export class OwncastHttpClient implements OwncastFetcher {
  private readonly agent: http.Agent;
  /** Plain HTTP goes through the lean client; HTTPS through node:https. */
  private readonly plain: PlainHttpPool | null;
  /** The request after `GET <path> HTTP/1.1\r\nHost: <host>` (plain HTTP). */
  private readonly requestTail: string;
  private readonly slots: Semaphore;
  /** Idle pooled sockets, oldest first, with the pool key they belong to. */
  private readonly idle = new Map<Socket, string>();
  private readonly idlePerKey = new Map<string, number>();
  private readonly keyOf = new WeakMap<Socket, string>();
  private readonly watched = new WeakSet<Socket>();
  private inFlight = 0;
  /** Resolutions (IP literals too) with the address the policy allows, if any. */
  private readonly dnsCache = new Map<string, { addresses: ResolvedAddress[]; usable: ResolvedAddress | null; expires: number }>();

  /**
   * `trustedCa`: extra PEM certificates to trust besides the system's (a private CA, or a test's
   * self-signed certificate); certificates are always verified against the stream's name.
   */
  constructor(
    private readonly settings: HttpSettings,
    private readonly resolver: Resolver = systemResolver,
    trustedCa?: string,
  ) {
    const perAddress = Math.min(settings.concurrency, settings.maxSockets);
    const options = {
      keepAlive: true,
      // HTTPS keys are per stream: one connection each. HTTP keys are per address.
      maxSockets: settings.scheme === "https" ? 1 : perAddress,
      // A hard ceiling; closing idle sockets first keeps real use at maxSockets.
      maxTotalSockets: settings.maxSockets * 2,
      maxFreeSockets: settings.scheme === "https" ? 1 : perAddress,
      scheduling: "lifo" as const,
      timeout: IDLE_TIMEOUT_MS,
      ...(trustedCa ? { ca: [...tls.rootCertificates, trustedCa] } : {}),
    };
    this.agent = settings.scheme === "https" ? new https.Agent(options) : new http.Agent(options);
    this.plain = settings.scheme === "http" ? new PlainHttpPool({ ...settings, idleTimeoutMs: IDLE_TIMEOUT_MS }) : null;
    this.requestTail = `\r\nUser-Agent: ${USER_AGENT}\r\nAccept: ${ACCEPT}\r\nAccept-Encoding: identity\r\nConnection: keep-alive\r\n\r\n`;
    this.slots = new Semaphore(Math.min(settings.concurrency, settings.maxSockets));
    this.agent.on("free", (socket: Socket) => {
      const key = this.keyOf.get(socket);
      if (key === undefined || socket.destroyed) return;
      this.untrackIdle(socket);
      this.idle.set(socket, key);
      this.idlePerKey.set(key, (this.idlePerKey.get(key) ?? 0) + 1);
    });
  }

  linkOf(domain: string): string {
    const { host, port } = splitHostPort(domain);
    const p = port ?? this.settings.port;
    return `${this.settings.scheme}://${host}${p === null ? "" : `:${p}`}/`;
  }

  /** Open pooled sockets (idle and busy), for the bench and tests. */
  get openSockets(): number {
    return this.plain ? this.plain.openSockets : this.idle.size + this.inFlight;
  }

  private untrackIdle(socket: Socket): void {
    const key = this.idle.get(socket);
    if (key === undefined) return;
    this.idle.delete(socket);
    const n = (this.idlePerKey.get(key) ?? 1) - 1;
    if (n <= 0) this.idlePerKey.delete(key);
    else this.idlePerKey.set(key, n);
  }

  /** The addresses a name may be contacted at (policy applied), cached for DNS_CACHE_MS. */
  private async resolve(domain: string): Promise<ResolvedAddress> {
    let entry = this.dnsCache.get(domain);
    if (entry === undefined || entry.expires <= Date.now()) {
      let addresses: ResolvedAddress[];
      const family = isIP(domain);
      if (family !== 0) {
        addresses = [{ address: domain, family: family === 6 ? 6 : 4 }];
      } else {
        try {
          addresses = await this.resolver(domain);
        } catch (err) {
          throw new FetchError(`${domain} does not resolve: ${(err as Error).message}`, "ENOTFOUND");
        }
      }
      // The policy's answer is kept with the resolution: a steady cycle checks nothing again.
      const allowPrivate = this.settings.allowPrivateAddresses;
      entry = { addresses, usable: addresses.find((a) => allowPrivate || !isNonPublicAddress(a.address)) ?? null, expires: Date.now() + DNS_CACHE_MS };
      // Domains that are no longer polled would stay forever: start over when it gets large.
      if (this.dnsCache.size >= DNS_CACHE_ENTRIES) this.dnsCache.clear();
      this.dnsCache.set(domain, entry);
    }
    if (entry.addresses.length === 0) throw new FetchError(`${domain} does not resolve`, "ENOTFOUND");
    if (entry.usable === null) throw new FetchError(`${domain} resolves only to private or reserved addresses`, "EBLOCKED");
    return entry.usable;
  }

  async get(domain: string, path: string, maxBytes: number): Promise<FetchResult> {
    const { host, port } = splitHostPort(domain);
    const s = port === null ? this.settings : { ...this.settings, port };
    await this.slots.acquire();
    try {
      const target = await this.resolve(host);
      try {
        return await this.attempt(s, host, target, path, maxBytes);
      } catch (err) {
        // A kept-alive socket the server closed in the meantime: one fresh try.
        if (!(err instanceof StaleSocketError)) throw err;
      }
      try {
        return await this.attempt(s, host, target, path, maxBytes, true);
      } catch (err) {
        // Only possible with node:https (the plain client retries on a new connection).
        if (err instanceof StaleSocketError) throw new FetchError("connection closed by the server before answering", "ECONNRESET");
        throw err;
      }
    } finally {
      this.slots.release();
    }
  }

  /** `s`: the settings with the stream's own port, if its domain has one. `fresh`: not on a kept-alive connection (the retry after a stale one; plain HTTP only). */
  private attempt(s: HttpSettings, domain: string, target: ResolvedAddress, path: string, maxBytes: number, fresh = false): Promise<FetchResult> {
    if (this.plain !== null) {
      const port = s.port ?? 80;
      const host = s.port === null ? domain : `${domain}:${port}`;
      // Names come from domainify and paths from this plugin; refuse anything that could split the request.
      if (!REQUEST_TOKEN.test(host) || !REQUEST_TOKEN.test(path)) return Promise.reject(new FetchError(`invalid request target ${host}${path}`, "EINVAL"));
      return this.plain.request(`${target.address}:${port}`, target, port, `GET ${path} HTTP/1.1\r\nHost: ${host}${this.requestTail}`, maxBytes, fresh);
    }
    const https_ = s.scheme === "https";
    const port = s.port ?? (https_ ? 443 : 80);
    const key = https_ ? `${domain}@${target.address}:${port}` : `${target.address}:${port}`;
    // Make room: close the oldest idle socket of another host when the pool is full.
    if (!this.idlePerKey.has(key) && this.idle.size + this.inFlight + 1 > s.maxSockets) {
      const oldest = this.idle.keys().next();
      if (!oldest.done) {
        this.untrackIdle(oldest.value);
        oldest.value.destroy();
      }
    }
    this.inFlight++;
    const transport = s.scheme === "https" ? https : http;
    return new Promise<FetchResult>((resolve, reject) => {
      let settled = false;
      let connectTimer: NodeJS.Timeout | undefined;
      const finish = (err: Error | null, result?: FetchResult) => {
        if (settled) return;
        settled = true;
        this.inFlight--;
        clearTimeout(deadline);
        clearTimeout(connectTimer);
        if (err) reject(err);
        else resolve(result!);
      };
      const req = transport.request({
        host: target.address,
        family: target.family,
        port,
        path,
        method: "GET",
        agent: this.agent,
        ...(https_ ? { servername: domain } : {}),
        headers: {
          Host: s.port === null ? domain : `${domain}:${port}`,
          "User-Agent": USER_AGENT,
          Accept: ACCEPT,
          "Accept-Encoding": "identity",
        },
        timeout: s.readTimeoutMs,
      });
      const deadline = setTimeout(() => req.destroy(new FetchError(`no complete answer within ${s.requestDeadlineMs} ms`, "ETIMEDOUT")), s.requestDeadlineMs);
      req.on("socket", (socket: Socket) => {
        this.untrackIdle(socket);
        this.keyOf.set(socket, key);
        if (!this.watched.has(socket)) {
          this.watched.add(socket);
          socket.once("close", () => this.untrackIdle(socket));
        }
        if (socket.connecting) {
          connectTimer = setTimeout(() => req.destroy(new FetchError(`connect timed out after ${s.connectTimeoutMs} ms`, "ECONNTIMEOUT")), s.connectTimeoutMs);
          socket.once("connect", () => clearTimeout(connectTimer));
        }
      });
      req.on("timeout", () => req.destroy(new FetchError(`no data for ${s.readTimeoutMs} ms`, "ETIMEDOUT")));
      req.on("error", (err: NodeJS.ErrnoException) => {
        if (req.reusedSocket && (err.code === "ECONNRESET" || err.code === "EPIPE")) finish(new StaleSocketError());
        else finish(err instanceof FetchError ? err : new FetchError(err.message, err.code ?? "EREQUEST"));
      });
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const declared = Number(res.headers["content-length"]);
        if (Number.isFinite(declared) && declared > maxBytes) {
          req.destroy(new FetchError(`answer larger than ${maxBytes} bytes`, "ETOOBIG"));
          return;
        }
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) req.destroy(new FetchError(`answer larger than ${maxBytes} bytes`, "ETOOBIG"));
          else chunks.push(chunk);
        });
        res.on("end", () =>
          finish(null, {
            status: res.statusCode ?? 0,
            contentType: String(res.headers["content-type"] ?? ""),
            body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks),
          }),
        );
        res.on("error", (err) => finish(new FetchError(err.message, "EREAD")));
      });
      req.end();
    });
  }

  close(): void {
    this.plain?.close();
    this.agent.destroy();
    this.idle.clear();
    this.idlePerKey.clear();
  }
}

const ACCEPT = "application/json, image/*;q=0.8";
/** A kept-alive connection unused this long is closed. */
const IDLE_TIMEOUT_MS = 120_000;
/** Visible ASCII only: no space, CR or LF in a request line or Host header. */
const REQUEST_TOKEN = /^[\x21-\x7e]+$/;

/** How long a resolution is reused (the connection goes to the address checked then). */
const DNS_CACHE_MS = 300_000;
const DNS_CACHE_ENTRIES = 100_000;
