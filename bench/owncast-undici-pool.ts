// Bench only: undici (the library behind Node's fetch) in place of the plugin's hand-written
// plain-HTTP client, behind the same PlainHttpPool interface, so `OWNCAST_BENCH_HTTP=undici-request`
// or `=undici-dispatch` measures it on the same cycle (owncast-poll.mjs swaps this module in for
// plain-http.ts when bundling). One undici Agent (a Pool per address, `perAddress` connections,
// keep-alive), the request's host and path read back from the request line the plugin built.
// Figures and the decision are in plugins/owncast-sentry/README.md.

import { Agent, type Dispatcher } from "undici";
import { FetchError, type FetchResult, type ResolvedAddress } from "../plugins/owncast-sentry/src/fetch-result.js";
import type { PlainHttpLimits } from "../plugins/owncast-sentry/src/plain-http.js";

export type { PlainHttpLimits };
export class StaleSocketError extends Error {}

const MODE = process.env["OWNCAST_BENCH_HTTP"] === "undici-dispatch" ? "dispatch" : "request";

export class PlainHttpPool {
  private readonly agent: Agent;
  private readonly inFlight = new Set<{ startedAt: number; controller: Dispatcher.DispatchController | null }>();
  private sweeper: NodeJS.Timeout | null = null;

  constructor(private readonly limits: PlainHttpLimits & { concurrency: number }) {
    this.agent = new Agent({
      connections: Math.min(limits.concurrency, limits.maxSockets),
      pipelining: 1,
      connect: { timeout: limits.connectTimeoutMs },
      headersTimeout: limits.readTimeoutMs,
      bodyTimeout: limits.readTimeoutMs,
      keepAliveTimeout: limits.idleTimeoutMs,
      keepAliveMaxTimeout: limits.idleTimeoutMs,
    });
  }

  get openSockets(): number {
    let n = 0;
    for (const s of Object.values(this.agent.stats)) n += Number(s.connected);
    return n;
  }

  request(_key: string, target: ResolvedAddress, port: number, request: string, maxBytes: number): Promise<FetchResult> {
    const origin = `http://${target.family === 6 ? `[${target.address}]` : target.address}:${port}`;
    const lines = request.split("\r\n");
    const path = lines[0]!.split(" ")[1]!;
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    delete headers["connection"];
    return MODE === "dispatch" ? this.dispatch(origin, path, headers, maxBytes) : this.viaRequest(origin, path, headers, maxBytes);
  }

  /** undici's usual API: request() and its body stream, AbortSignal.timeout for the deadline. */
  private async viaRequest(origin: string, path: string, headers: Record<string, string>, maxBytes: number): Promise<FetchResult> {
    const signal = AbortSignal.timeout(this.limits.requestDeadlineMs);
    try {
      const res = await this.agent.request({ origin, path, method: "GET", headers, signal });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > maxBytes) {
          res.body.destroy();
          throw new FetchError(`answer larger than ${maxBytes} bytes`, "ETOOBIG");
        }
        chunks.push(chunk);
      }
      const type = res.headers["content-type"];
      return { status: res.statusCode, contentType: typeof type === "string" ? type : "", body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) };
    } catch (err) {
      if (err instanceof FetchError) throw err;
      throw new FetchError((err as Error).message, "EREQUEST");
    }
  }

  /** undici's low-level dispatch(): no body stream, one sweep timer for the deadline. */
  private dispatch(origin: string, path: string, headers: Record<string, string>, maxBytes: number): Promise<FetchResult> {
    return new Promise<FetchResult>((resolve, reject) => {
      const entry = { startedAt: Date.now(), controller: null as Dispatcher.DispatchController | null };
      this.inFlight.add(entry);
      if (this.sweeper === null) {
        this.sweeper = setInterval(() => this.sweep(), 100);
        this.sweeper.unref();
      }
      let status = 0;
      let contentType = "";
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => {
        this.inFlight.delete(entry);
        if (this.inFlight.size === 0 && this.sweeper !== null) {
          clearInterval(this.sweeper);
          this.sweeper = null;
        }
      };
      this.agent.dispatch(
        { origin, path, method: "GET", headers },
        {
          onRequestStart: (controller) => void (entry.controller = controller),
          onResponseStart: (_controller, statusCode, h) => {
            status = statusCode;
            const type = h["content-type"];
            contentType = typeof type === "string" ? type : "";
          },
          onResponseData: (controller, chunk) => {
            size += chunk.length;
            if (size > maxBytes) controller.abort(new FetchError(`answer larger than ${maxBytes} bytes`, "ETOOBIG"));
            else chunks.push(chunk);
          },
          onResponseEnd: () => {
            done();
            resolve({ status, contentType, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) });
          },
          onResponseError: (_controller, err) => {
            done();
            reject(err instanceof FetchError ? err : new FetchError(err.message, "EREQUEST"));
          },
        },
      );
    });
  }

  private sweep(): void {
    const cutoff = Date.now() - this.limits.requestDeadlineMs;
    for (const entry of this.inFlight) {
      if (entry.startedAt <= cutoff) entry.controller?.abort(new FetchError(`no complete answer within ${this.limits.requestDeadlineMs} ms`, "ETIMEDOUT"));
    }
  }

  close(): void {
    void this.agent.destroy();
  }
}
