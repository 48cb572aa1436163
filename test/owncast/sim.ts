// A simulated Owncast server for tests and benches: one HTTP server on 127.0.0.1 that answers
// for any number of stream domains (told apart by the Host header), following the real API:
// `/api/status` with `viewerCount` absent at zero or when hidden, `online` turning true only some
// time after `lastConnectTime` is set (Owncast's artificial buffer), `/api/config` with name and
// tags (possibly null), `/thumbnail.jpg` falling back to the logo, and broken modes (connection
// reset, a server that never answers, garbage, non-object JSON, HTTP errors). It also builds and
// signs webhook deliveries the way Owncast 0.3.0 does.

import { createHmac } from "node:crypto";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type SimMode = "ok" | "unreachable" | "hang" | "garbage" | "array" | "http500" | "redirect" | "missing-fields";

export interface SimStreamState {
  name: string;
  summary: string;
  title: string;
  tags: string[] | null;
  connectedAt: number | null;
  disconnectedAt: number | null;
  viewers: number;
  hideViewerCount: boolean;
  /** How long after connect `online` turns true (Owncast: max(3 × segment, 7 s)). */
  onlineLagMs: number;
  /** null: no thumbnail generated yet, the logo is served instead. */
  thumbnail: Buffer | null;
  logo: { contentType: string; data: Buffer };
  mode: SimMode;
  /** Real milliseconds before the server starts answering (streams answering out of order). */
  answerDelayMs: number;
}

/** A 1×1 JPEG, enough for an upload. */
export const TINY_JPEG = Buffer.from(
  "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b080001000101011100ffc4001f0000010501010101010100000000000000000102030405060708090a0bffc400b5100002010303020403050504040000017d01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda0008010100003f00fbd3ffd9",
  "hex",
);
const DEFAULT_LOGO = { contentType: "image/svg+xml", data: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>') };

export class SimStream {
  readonly state: SimStreamState;
  readonly requests = new Map<string, number>();

  constructor(readonly domain: string, private readonly clock: () => number, init: Partial<SimStreamState> = {}) {
    this.state = {
      name: domain,
      summary: "",
      title: "",
      tags: [],
      connectedAt: null,
      disconnectedAt: null,
      viewers: 0,
      hideViewerCount: false,
      onlineLagMs: 0,
      thumbnail: null,
      logo: DEFAULT_LOGO,
      mode: "ok",
      answerDelayMs: 0,
      ...init,
    };
  }

  goLive(title?: string): this {
    if (title !== undefined) this.state.title = title;
    this.state.connectedAt = this.clock();
    this.state.disconnectedAt = null;
    return this;
  }

  goOffline(): this {
    this.state.connectedAt = null;
    this.state.disconnectedAt = this.clock();
    return this;
  }

  setTitle(title: string): this {
    this.state.title = title;
    return this;
  }

  set(patch: Partial<SimStreamState>): this {
    Object.assign(this.state, patch);
    return this;
  }

  count(path: string): number {
    return this.requests.get(path) ?? 0;
  }

  /** What `/api/status` answers now. */
  status(): Record<string, unknown> {
    const s = this.state;
    const now = this.clock();
    const body: Record<string, unknown> = {
      serverTime: new Date(now).toISOString(),
      lastConnectTime: s.connectedAt === null ? null : isoSeconds(s.connectedAt),
      lastDisconnectTime: s.disconnectedAt === null ? null : isoSeconds(s.disconnectedAt),
      versionNumber: "0.2.3",
      streamTitle: s.title,
      online: s.connectedAt !== null && now - s.connectedAt >= s.onlineLagMs,
    };
    // `viewerCount,omitempty`: gone at zero, and when the admin hides it.
    if (!s.hideViewerCount && s.viewers > 0) body["viewerCount"] = s.viewers;
    return body;
  }

  config(): Record<string, unknown> {
    const s = this.state;
    const body: Record<string, unknown> = {
      name: s.name,
      summary: s.summary,
      logo: "/logo",
      tags: s.tags,
      nsfw: false,
      version: "Owncast v0.2.3-linux-64bit",
      extraPageContent: "<p>hello</p>",
      socialHandles: null,
      hideViewerCount: s.hideViewerCount,
      chatDisabled: false,
      federation: { enabled: false },
      notifications: { browser: { enabled: false } },
      authentication: { indieAuthEnabled: false },
    };
    if (s.title !== "") body["streamTitle"] = s.title;
    return body;
  }

  /** A webhook delivery as Owncast sends it. */
  webhook(type: "STREAM_STARTED" | "STREAM_STOPPED" | "STREAM_TITLE_UPDATED" | string): Record<string, unknown> {
    const status = this.status();
    delete status["serverTime"];
    return {
      type,
      eventData: {
        id: "sim" + Math.random().toString(36).slice(2, 8),
        name: this.state.name,
        summary: this.state.summary,
        streamTitle: this.state.title,
        status: { ...status, viewerCount: this.state.viewers, overallMaxViewerCount: 0, sessionMaxViewerCount: 0 },
        timestamp: new Date(this.clock()).toISOString(),
      },
    };
  }
}

/** How a delivery is signed: as Owncast 0.3.0 does, with a wrong secret, or not at all. */
export type WebhookSigning = { secret: string; unixSeconds?: number } | { badSignature: true } | "unsigned";

/** POSTs a delivery to a webhook URL the way Owncast does; resolves to the HTTP status. */
export async function sendWebhook(url: string, payload: Record<string, unknown>, signing: WebhookSigning = "unsigned"): Promise<number> {
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "Owncast/0.3.0" };
  const now = Math.floor(Date.now() / 1000);
  if (signing !== "unsigned") {
    headers["owncast-signature"] =
      "badSignature" in signing ? owncastSignature("not-the-secret", body, now) : owncastSignature(signing.secret, body, signing.unixSeconds ?? now);
  }
  const res = await fetch(url, { method: "POST", headers, body, redirect: "manual" });
  await res.arrayBuffer();
  return res.status;
}

function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** Owncast 0.3.0's `owncast-signature` value: t=<unix>.s=<hex HMAC-SHA256(secret, "<t>.<body>")>. */
export function owncastSignature(secret: string, body: string | Uint8Array, unixSeconds: number): string {
  const mac = createHmac("sha256", secret).update(`${unixSeconds}.`).update(body).digest("hex");
  return `t=${unixSeconds}.s=${mac}`;
}

export interface SimOptions {
  /** Streams for hosts nobody added: created on first request from this template (benches). */
  autoCreate?: Partial<SimStreamState>;
  clock?: () => number;
}

export class OwncastSim {
  readonly streams = new Map<string, SimStream>();
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly clock: () => number;
  totalRequests = 0;
  port = 0;

  constructor(private readonly options: SimOptions = {}) {
    this.clock = options.clock ?? Date.now;
    this.server = http.createServer({ keepAliveTimeout: 120_000 }, (req, res) => this.handle(req, res));
    this.server.on("connection", (socket: Socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
  }

  /** Listens on 127.0.0.1 at `port` (0: any free port). */
  async start(port = 0): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, "127.0.0.1", resolve);
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get openConnections(): number {
    return this.sockets.size;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  add(domain: string, init: Partial<SimStreamState> = {}): SimStream {
    const stream = new SimStream(domain, this.clock, init);
    this.streams.set(domain, stream);
    return stream;
  }

  get(domain: string): SimStream {
    const s = this.streams.get(domain);
    if (!s) throw new Error(`no simulated stream ${domain}`);
    return s;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.totalRequests++;
    const host = (req.headers.host ?? "").replace(/:\d+$/, "").toLowerCase();
    const template = this.options.autoCreate;
    const stream = this.streams.get(host) ?? (template ? this.add(host, template) : undefined);
    const path = (req.url ?? "/").split("?")[0]!;
    if (!stream) return void res.writeHead(404).end("no such stream");
    stream.requests.set(path, (stream.requests.get(path) ?? 0) + 1);
    if (stream.state.answerDelayMs > 0) setTimeout(() => this.answer(stream, path, req, res), stream.state.answerDelayMs);
    else this.answer(stream, path, req, res);
  }

  private answer(stream: SimStream, path: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    const s = stream.state;
    switch (s.mode) {
      case "unreachable":
        return void req.socket.destroy();
      case "hang":
        return; // never answers; the client's timeouts must end it
      case "http500":
        return void res.writeHead(500).end("internal error");
      case "redirect":
        return void res.writeHead(302, { location: "http://127.0.0.1:1/api/status" }).end();
      case "garbage":
        return void res.writeHead(200, { "content-type": "application/json" }).end("<html>Bad gateway</html>");
      case "array":
        return void json(res, [1, 2, 3]);
      default:
        break;
    }
    if (path === "/api/status") {
      const body = stream.status();
      if (s.mode === "missing-fields") delete body["lastDisconnectTime"];
      return void json(res, body);
    }
    if (path === "/api/config") return void json(res, stream.config());
    if (path === "/thumbnail.jpg") {
      const live = s.connectedAt !== null;
      if (live && s.thumbnail) return void res.writeHead(200, { "content-type": "image/jpeg", "cache-control": "public, max-age=20" }).end(s.thumbnail);
      return void res.writeHead(200, { "content-type": s.logo.contentType }).end(s.logo.data);
    }
    if (path === "/logo") return void res.writeHead(200, { "content-type": s.logo.contentType }).end(s.logo.data);
    res.writeHead(404).end("404 page not found");
  }
}

function json(res: http.ServerResponse, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(data), "cache-control": "no-store" }).end(data);
}
