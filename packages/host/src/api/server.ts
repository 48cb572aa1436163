// The HTTP server the Daemon starts: the koa app plus the /logs websocket on the same port.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { API_PREFIX, buildApi } from "./app.js";
import type { ApiDeps } from "./deps.js";
import { DatabaseConsole } from "./database-console/database-console.js";
import type { LogSocketServer } from "./log-socket.js";

export interface ApiServer {
  port: number;
  /** Stops accepting, closes log sockets (1012) and open connections; resolves when closed. */
  close(): Promise<void>;
}

export async function startApiServer(deps: ApiDeps, options: { port?: number; hostname?: string } = {}): Promise<ApiServer> {
  const { app, context } = buildApi(deps);
  // The websocket server (the `ws` package, about 3 MB of RSS) loads with the first log reader.
  let logs: Promise<LogSocketServer> | null = null;
  let closed = false;
  const logSockets = () =>
    (logs ??= import("./log-socket.js").then((m) => new m.LogSocketServer(deps.logging.ring, context.tokens, context.limits.logAuthTimeoutMs)));
  const server: Server = createServer(app.callback());
  server.on("upgrade", (req, socket, head) => {
    const path = (req.url ?? "").split("?")[0];
    if (deps.config.api_features.log && path === `${API_PREFIX}/logs`) {
      logSockets().then(
        (sockets) => {
          if (closed || socket.destroyed) socket.destroy();
          else sockets.handleUpgrade(req, socket, head);
        },
        (err: unknown) => {
          context.log.error({ err }, "could not load the log websocket server");
          socket.destroy();
        },
      );
      return;
    }
    socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  });
  const hostname = options.hostname ?? deps.config.server.hostname;
  const port = options.port ?? deps.config.server.port;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      const why = err.code === "EADDRINUSE" ? "the address is in use (another botyard or maubot?)" : err.message;
      reject(new Error(`The management API cannot listen on ${hostname}:${port}: ${why}`, { cause: err }));
    });
    server.listen(port, hostname, () => {
      server.removeAllListeners("error");
      server.on("error", (err) => context.log.error({ err }, "management API server error"));
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  context.log.info({ address: `http://${hostname}:${bound}` }, `management API listening on ${hostname}:${bound}`);
  let closing: Promise<void> | null = null;
  return {
    port: bound,
    close() {
      closing ??= new Promise<void>((resolve) => {
        closed = true;
        void logs?.then((sockets) => sockets.close());
        DatabaseConsole.killAll();
        server.close(() => resolve());
        server.closeIdleConnections();
        // Requests still running after a second are cut, so shutdown stays bounded.
        setTimeout(() => server.closeAllConnections(), 1_000).unref();
      });
      return closing;
    },
  };
}
