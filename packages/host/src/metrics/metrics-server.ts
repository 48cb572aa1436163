// `metrics.listen`: the Prometheus endpoint on an address of its own (e.g. 127.0.0.1:9316, for a
// Prometheus that should not reach the management API). Open there unless `metrics.secret` is set.
import { timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface MetricsListener {
  port: number;
  close(): Promise<void>;
}

/** Compares a presented secret in constant time. */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function bearerMatches(header: string | undefined, secret: string): boolean {
  return sameSecret(header?.startsWith("Bearer ") ? header.slice(7).trim() : "", secret);
}

export async function startMetricsListener(
  listen: { hostname: string; port: number },
  path: string,
  secret: string | null,
  exposition: { readonly contentType: string; render(): Promise<string> },
): Promise<MetricsListener> {
  const server: Server = createServer((req, res) => {
    const url = (req.url ?? "/").split("?")[0];
    const json = (status: number, errcode: string, error: string): void => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ errcode, error }));
    };
    if (url !== path) return json(404, "not_found", `The metrics are at ${path}.`);
    if (req.method !== "GET" && req.method !== "HEAD") return json(405, "method_not_allowed", `Use GET on ${path}.`);
    if (secret !== null && !bearerMatches(req.headers.authorization, secret)) {
      return json(401, "auth_token_invalid", "Send metrics.secret as `Authorization: Bearer …`.");
    }
    exposition.render().then(
      (text) => void res.writeHead(200, { "content-type": exposition.contentType }).end(req.method === "HEAD" ? undefined : text),
      (err: unknown) => json(500, "internal_error", `Could not collect the metrics: ${err instanceof Error ? err.message : String(err)}`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(new Error(`The metrics listener cannot listen on ${listen.hostname}:${listen.port}: ${err.code === "EADDRINUSE" ? "the address is in use" : err.message}`)),
    );
    server.listen(listen.port, listen.hostname, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
