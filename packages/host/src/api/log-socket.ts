// GET /logs as a websocket with maubot's handshake: the client sends its token as the first text
// frame, gets `{"auth_success":true}` then `{"history":[...]}`, then one JSON record per message.
// No valid token within the auth timeout → close 4000; server shutdown → close 1012.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";
import type { LogRing } from "../logging/index.js";
import type { TokenIssuer } from "./tokens.js";

const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

export class LogSocketServer {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });

  constructor(
    private readonly ring: LogRing,
    private readonly tokens: TokenIssuer,
    private readonly authTimeoutMs: number,
  ) {
    this.wss.on("connection", (ws) => this.onConnection(ws));
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit("connection", ws, req));
  }

  /** Closes every log socket with 1012 (service restart), as maubot does on shutdown. */
  close(): void {
    for (const ws of this.wss.clients) ws.close(1012, "server shutting down");
    this.wss.close();
  }

  private onConnection(ws: WebSocket): void {
    let unsubscribe: (() => void) | null = null;
    const timer = setTimeout(() => {
      if (!unsubscribe) ws.close(4000, "not authenticated");
    }, this.authTimeoutMs);
    ws.on("message", (data, isBinary) => {
      if (unsubscribe) return;
      const token = isBinary ? "" : data.toString().trim();
      if (!this.tokens.verify(token)) {
        ws.send(JSON.stringify({ auth_success: false }));
        return;
      }
      clearTimeout(timer);
      ws.send(JSON.stringify({ auth_success: true }));
      ws.send(JSON.stringify({ history: this.ring.history() }));
      unsubscribe = this.ring.subscribe((entry) => {
        if (ws.readyState !== WebSocket.OPEN) return;
        // A reader that stops reading must not make the host buffer its log without bound.
        if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
          ws.terminate();
          return;
        }
        ws.send(JSON.stringify(entry));
      });
    });
    ws.on("close", () => {
      clearTimeout(timer);
      unsubscribe?.();
    });
    ws.on("error", () => ws.terminate());
  }
}
