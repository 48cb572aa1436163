// The live log websocket: sends the token first (maubot's handshake), then hands over the
// history and every new record. Returns a function that closes it.
import { apiPath } from "./client.js";
import { savedToken, tokenExpired } from "./session.js";
import type { LogEntry, LogSocketMessage } from "./types.js";

type AuthMessage = { auth_success: boolean };
type HistoryMessage = { history: LogEntry[] };

// A log record may carry any extra field, so the two control messages are told apart by their value.
function isAuth(m: LogSocketMessage): m is AuthMessage {
  return typeof (m as Partial<AuthMessage>).auth_success === "boolean";
}

function isHistory(m: LogSocketMessage): m is HistoryMessage {
  return Array.isArray((m as Partial<HistoryMessage>).history);
}

export interface LogSocketHandlers {
  onRecords: (records: LogEntry[]) => void;
  onStatus: (status: "connecting" | "live" | "closed", detail?: string) => void;
}

export function openLogSocket(handlers: LogSocketHandlers): () => void {
  let socket: WebSocket | null = null;
  let stopped = false;
  handlers.onStatus("connecting");
  void apiPath().then(
    (path) => {
      if (stopped) return;
      const url = new URL(`${path}/logs`, location.href);
      url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
      socket = new WebSocket(url);
      socket.onopen = () => socket?.send(savedToken() ?? "");
      socket.onmessage = (event: MessageEvent<string>) => {
        const message = JSON.parse(event.data) as LogSocketMessage;
        if (isAuth(message)) {
          if (message.auth_success) handlers.onStatus("live");
          else {
            socket?.close();
            tokenExpired("The log stream refused your session; log in again.");
          }
        } else if (isHistory(message)) handlers.onRecords(message.history);
        else handlers.onRecords([message as LogEntry]);
      };
      socket.onclose = (event) => {
        if (!stopped) handlers.onStatus("closed", event.code === 1012 ? "the daemon is restarting" : `closed (${event.code})`);
      };
    },
    (err: Error) => handlers.onStatus("closed", err.message),
  );
  return () => {
    stopped = true;
    socket?.close();
  };
}
