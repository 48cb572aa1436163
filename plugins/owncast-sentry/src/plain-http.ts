// A lean HTTP/1.1 client for plain-HTTP keep-alive connections, on node:net. Polling 10,000
// streams served by one address costs most of its CPU in node:http's per-request machinery
// (ClientRequest, agent bookkeeping, header objects, stream state); here a request is one string
// written to a pooled socket and the answer is parsed in place. HTTPS keeps using node:https
// (SNI, certificate checks). Only what the plugin needs: GET, Content-Length, chunked or
// read-to-close bodies, 1xx skipped, bounded head and body sizes, connect/read timeouts and an
// overall deadline checked by one shared sweep timer instead of timers per request.

import net from "node:net";
import { FetchError, type FetchResult, type ResolvedAddress } from "./fetch-result.js";

export interface PlainHttpLimits {
  maxSockets: number;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  requestDeadlineMs: number;
  /** A kept-alive connection unused this long is closed. */
  idleTimeoutMs: number;
}

/** A reused connection the server had closed: the caller retries once on a fresh one. */
export class StaleSocketError extends Error {}

/** Largest response head (status line and headers), as node:http's default. */
const MAX_HEAD_BYTES = 16 * 1024;
const CRLFCRLF = Buffer.from("\r\n\r\n");
const CRLF = Buffer.from("\r\n");
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

type Phase = "idle" | "head" | "length" | "chunk-size" | "chunk-data" | "chunk-end" | "trailers" | "eof";

interface Exchange {
  resolve: (r: FetchResult) => void;
  reject: (e: Error) => void;
  maxBytes: number;
  startedAt: number;
  reused: boolean;
}

class Connection {
  readonly socket: net.Socket;
  connecting = true;
  exchange: Exchange | null = null;
  lastIo = 0;
  idleSince = 0;
  private phase: Phase = "idle";
  /** Bytes not yet consumed by the parser (head so far, or a partial chunk-size line). */
  private pending: Buffer | null = null;
  private gotBytes = false;
  private status = 0;
  private contentType = "";
  private keepAlive = true;
  private remaining = 0;
  private size = 0;
  private chunks: Buffer[] = [];

  constructor(
    readonly pool: PlainHttpPool,
    readonly key: string,
    target: ResolvedAddress,
    port: number,
  ) {
    // Reads land in one buffer shared by every connection (the parser copies what it keeps
    // before returning), instead of a fresh 64 KiB allocation per read.
    this.socket = net.connect({
      host: target.address,
      port,
      family: target.family,
      noDelay: true,
      onread: { buffer: READ_BUFFER, callback: (n: number, buf: Uint8Array) => (this.onData(buf as Buffer, n), true) },
    });
    this.socket.on("connect", () => {
      this.connecting = false;
      this.lastIo = Date.now();
    });
    this.socket.on("end", () => this.onEnd());
    this.socket.on("error", (err: NodeJS.ErrnoException) => this.fail(this.staleOr(new FetchError(err.message, err.code ?? "EREQUEST")), false));
    this.socket.on("close", () => {
      this.fail(this.staleOr(new FetchError("connection closed before a complete answer", "ECONNRESET")), false);
      this.pool.forget(this);
    });
  }

  send(request: string, exchange: Exchange): void {
    this.exchange = exchange;
    this.phase = "head";
    this.pending = null;
    this.gotBytes = false;
    this.chunks = [];
    this.size = 0;
    this.keepAlive = true;
    this.lastIo = Date.now();
    this.socket.write(request, "latin1");
  }

  /** A reused connection that ends or breaks before the first byte of an answer went stale. */
  private staleOr(err: Error): Error {
    return this.exchange?.reused && !this.gotBytes ? new StaleSocketError() : err;
  }

  /** Ends the exchange in flight (if any) with an error and closes the connection. */
  fail(err: Error, destroy = true): void {
    const ex = this.exchange;
    this.exchange = null;
    this.phase = "idle";
    this.chunks = [];
    if (destroy) this.pool.discard(this);
    if (ex) {
      this.pool.settled(this);
      ex.reject(err);
    }
  }

  private onEnd(): void {
    if (this.phase === "eof") return this.complete(false);
    if (this.exchange) this.fail(this.staleOr(new FetchError("connection closed before a complete answer", "ECONNRESET")));
    else this.pool.discard(this);
  }

  /** `read`: the shared read buffer, of which the first `n` bytes are new. */
  private onData(read: Buffer, n: number): void {
    const chunk = read.subarray(0, n);
    if (this.exchange === null) {
      // Bytes nobody asked for: the connection cannot be trusted for the next request.
      this.pool.discard(this);
      return;
    }
    this.lastIo = Date.now();
    this.gotBytes = true;
    let buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = null;
    // Each step consumes what it can from buf and returns the rest (null: wait for more bytes).
    while (this.exchange !== null && buf.length > 0) {
      switch (this.phase) {
        case "head": {
          const end = buf.indexOf(CRLFCRLF);
          if (end < 0) {
            if (buf.length > MAX_HEAD_BYTES) return this.fail(new FetchError(`answer head larger than ${MAX_HEAD_BYTES} bytes`, "ETOOBIG"));
            this.pending = Buffer.from(buf);
            return;
          }
          if (end > MAX_HEAD_BYTES) return this.fail(new FetchError(`answer head larger than ${MAX_HEAD_BYTES} bytes`, "ETOOBIG"));
          const err = this.parseHead(buf.toString("latin1", 0, end));
          if (err) return this.fail(err);
          buf = buf.subarray(end + 4);
          if ((this.phase as Phase) === "idle") return this.complete(buf.length === 0);
          break;
        }
        case "length": {
          const take = Math.min(this.remaining, buf.length);
          this.chunks.push(Buffer.from(buf.subarray(0, take)));
          this.remaining -= take;
          buf = buf.subarray(take);
          if (this.remaining === 0) return this.complete(buf.length === 0);
          break;
        }
        case "chunk-size":
        case "chunk-end":
        case "trailers": {
          const eol = buf.indexOf(CRLF);
          if (eol < 0) {
            if (buf.length > MAX_HEAD_BYTES) return this.fail(new FetchError("malformed chunked answer", "EPROTO"));
            this.pending = Buffer.from(buf);
            return;
          }
          const line = buf.toString("latin1", 0, eol);
          buf = buf.subarray(eol + 2);
          if (this.phase === "chunk-end") {
            if (line !== "") return this.fail(new FetchError("malformed chunked answer", "EPROTO"));
            this.phase = "chunk-size";
          } else if (this.phase === "trailers") {
            if (line === "") return this.complete(buf.length === 0);
          } else {
            const hex = line.split(";", 1)[0]!.trim();
            if (!/^[0-9a-fA-F]{1,8}$/.test(hex)) return this.fail(new FetchError("malformed chunked answer", "EPROTO"));
            const n = parseInt(hex, 16);
            if (n === 0) this.phase = "trailers";
            else if (!this.grow(n)) return;
            else {
              this.remaining = n;
              this.phase = "chunk-data";
            }
          }
          break;
        }
        case "chunk-data": {
          const take = Math.min(this.remaining, buf.length);
          this.chunks.push(Buffer.from(buf.subarray(0, take)));
          this.remaining -= take;
          buf = buf.subarray(take);
          if (this.remaining === 0) this.phase = "chunk-end";
          break;
        }
        case "eof": {
          if (!this.grow(buf.length)) return;
          this.chunks.push(Buffer.from(buf));
          buf = buf.subarray(buf.length);
          break;
        }
        case "idle":
          return;
      }
    }
  }

  /** Counts body bytes against the cap; false (and the exchange failed) when over it. */
  private grow(n: number): boolean {
    this.size += n;
    if (this.size <= this.exchange!.maxBytes) return true;
    this.fail(new FetchError(`answer larger than ${this.exchange!.maxBytes} bytes`, "ETOOBIG"));
    return false;
  }

  /** Status line and headers; sets the body phase ("idle" when there is no body). */
  private parseHead(head: string): FetchError | null {
    const lines = head.split("\r\n");
    const m = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0]!);
    if (!m) return new FetchError("not an HTTP/1.x answer", "EPROTO");
    const status = Number(m[2]);
    let contentLength: number | null = null;
    let chunked = false;
    let encoded = false;
    let connection = "";
    let contentType = "";
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(":");
      if (colon <= 0 || line.charCodeAt(0) === 32 || line.charCodeAt(0) === 9) return new FetchError("malformed answer header", "EPROTO");
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "content-length") {
        if (!/^\d{1,15}$/.test(value) || (contentLength !== null && contentLength !== Number(value))) return new FetchError("bad content-length", "EPROTO");
        contentLength = Number(value);
      } else if (name === "transfer-encoding") {
        encoded = true;
        chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
      } else if (name === "connection") {
        connection += `${value.toLowerCase()},`;
      } else if (name === "content-type") {
        contentType = value;
      }
    }
    if (status >= 100 && status < 200) {
      if (status === 101) return new FetchError("unexpected protocol switch", "EPROTO");
      return null; // an interim answer: the real one follows, still in phase "head"
    }
    this.status = status;
    this.contentType = contentType;
    this.keepAlive = m[1] === "1" ? !/(?:^|,)\s*close\s*,/.test(connection) : /(?:^|,)\s*keep-alive\s*,/.test(connection);
    const maxBytes = this.exchange!.maxBytes;
    if (status === 204 || status === 304) {
      this.phase = "idle";
    } else if (encoded) {
      // Transfer-Encoding wins over Content-Length; a length given with it taints the connection.
      if (contentLength !== null) this.keepAlive = false;
      if (chunked) this.phase = "chunk-size";
      else {
        this.keepAlive = false;
        this.phase = "eof";
      }
    } else if (contentLength !== null) {
      if (contentLength > maxBytes) return new FetchError(`answer larger than ${maxBytes} bytes`, "ETOOBIG");
      this.remaining = contentLength;
      this.phase = contentLength === 0 ? "idle" : "length";
    } else {
      this.keepAlive = false;
      this.phase = "eof";
    }
    return null;
  }

  /** The answer is complete; `clean`: nothing followed it, so the connection may be reused. */
  private complete(clean: boolean): void {
    const ex = this.exchange!;
    const chunks = this.chunks;
    const result: FetchResult = {
      status: this.status,
      contentType: this.contentType,
      body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks),
    };
    this.exchange = null;
    this.phase = "idle";
    this.chunks = [];
    this.pool.settled(this);
    if (clean && this.keepAlive && !this.socket.destroyed) this.pool.release(this);
    else this.pool.discard(this);
    ex.resolve(result);
  }
}

/**
 * Keep-alive connections by pool key, at most `maxSockets` open in total; when full, the oldest
 * idle connection (of any key) is closed to make room. Callers bound the requests in flight.
 */
export class PlainHttpPool {
  /** Idle connections, oldest first. */
  private readonly idle = new Set<Connection>();
  private readonly idleByKey = new Map<string, Connection[]>();
  private readonly open = new Set<Connection>();
  private readonly busy = new Set<Connection>();
  private sweeper: NodeJS.Timeout | null = null;
  private reaper: NodeJS.Timeout | null = null;
  private readonly tickMs: number;

  constructor(private readonly limits: PlainHttpLimits) {
    this.tickMs = Math.max(5, Math.min(100, Math.min(limits.connectTimeoutMs, limits.readTimeoutMs, limits.requestDeadlineMs) / 10));
  }

  get openSockets(): number {
    return this.open.size;
  }

  /** `fresh`: open a new connection even if one is idle (the retry after a stale one). */
  request(key: string, target: ResolvedAddress, port: number, request: string, maxBytes: number, fresh = false): Promise<FetchResult> {
    let conn = fresh ? undefined : this.takeIdle(key);
    const reused = conn !== undefined;
    if (conn === undefined) {
      if (this.open.size >= this.limits.maxSockets) {
        const oldest = this.idle.values().next();
        if (!oldest.done) this.discard(oldest.value);
      }
      conn = new Connection(this, key, target, port);
      this.open.add(conn);
    }
    this.busy.add(conn);
    if (this.sweeper === null) {
      this.sweeper = setInterval(() => this.sweep(), this.tickMs);
      this.sweeper.unref();
    }
    const c = conn;
    return new Promise<FetchResult>((resolve, reject) => c.send(request, { resolve, reject, maxBytes, startedAt: Date.now(), reused }));
  }

  private takeIdle(key: string): Connection | undefined {
    const list = this.idleByKey.get(key);
    if (list === undefined) return undefined;
    const conn = list.pop()!; // most recently used first: the others may time out on the server
    if (list.length === 0) this.idleByKey.delete(key);
    this.idle.delete(conn);
    return conn;
  }

  /** The exchange on `conn` ended (either way). */
  settled(conn: Connection): void {
    this.busy.delete(conn);
    if (this.busy.size === 0 && this.sweeper !== null) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  }

  release(conn: Connection): void {
    conn.idleSince = Date.now();
    this.idle.add(conn);
    if (this.reaper === null) {
      this.reaper = setInterval(() => this.reap(), Math.max(10, this.limits.idleTimeoutMs / 4));
      this.reaper.unref();
    }
    const list = this.idleByKey.get(conn.key);
    if (list === undefined) this.idleByKey.set(conn.key, [conn]);
    else list.push(conn);
  }

  /** Closes a connection and drops it from the pool at once (its close event comes later). */
  discard(conn: Connection): void {
    this.forget(conn);
    conn.socket.destroy();
  }

  forget(conn: Connection): void {
    if (!this.open.delete(conn)) return;
    if (this.idle.delete(conn)) {
      const list = this.idleByKey.get(conn.key)!;
      list.splice(list.indexOf(conn), 1);
      if (list.length === 0) this.idleByKey.delete(conn.key);
    }
  }

  /** Closes connections idle for longer than the idle timeout (the oldest come first). */
  private reap(): void {
    const cutoff = Date.now() - this.limits.idleTimeoutMs;
    for (const conn of this.idle) {
      if (conn.idleSince > cutoff) break;
      this.discard(conn);
    }
    if (this.idle.size === 0 && this.reaper !== null) {
      clearInterval(this.reaper);
      this.reaper = null;
    }
  }

  /** One timer for every request in flight: connect and read timeouts, overall deadline. */
  private sweep(): void {
    const now = Date.now();
    const l = this.limits;
    for (const conn of this.busy) {
      const ex = conn.exchange;
      if (ex === null) continue;
      if (now - ex.startedAt >= l.requestDeadlineMs) conn.fail(new FetchError(`no complete answer within ${l.requestDeadlineMs} ms`, "ETIMEDOUT"));
      else if (conn.connecting) {
        if (now - ex.startedAt >= l.connectTimeoutMs) conn.fail(new FetchError(`connect timed out after ${l.connectTimeoutMs} ms`, "ECONNTIMEOUT"));
      } else if (now - conn.lastIo >= l.readTimeoutMs) conn.fail(new FetchError(`no data for ${l.readTimeoutMs} ms`, "ETIMEDOUT"));
    }
  }

  close(): void {
    for (const conn of [...this.open]) conn.fail(new FetchError("the HTTP client was closed", "ECLOSED"));
    this.idle.clear();
    this.idleByKey.clear();
    if (this.reaper !== null) clearInterval(this.reaper);
    this.reaper = null;
  }
}
