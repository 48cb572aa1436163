// `botyard-cli logs`: the management API's log websocket (maubot's handshake: the token as the
// first frame, `{"auth_success":true}`, `{"history":[...]}`, then one record per message).

import { API_PREFIX, ApiCallError } from "./management-api.js";

export interface LogRecord {
  time: string;
  levelname: string;
  name: string;
  msg: string;
  [key: string]: unknown;
}

export interface FollowOptions {
  /** How many history records to show (default 10; 0 for none). */
  tail?: number;
  /** Stop after the history instead of following new records. */
  historyOnly?: boolean;
  onRecord(record: LogRecord): void;
  /** Ends the stream. */
  signal?: AbortSignal;
}

// C0/C1 controls but newline and tab: an escape sequence in a record (a plugin logging what a
// remote server or a room member sent) must not drive the operator's terminal.
const TERMINAL_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** A field of a record from the server as printable text (the server's records are not trusted). */
function printable(value: unknown): string {
  const text = typeof value === "string" ? value : value === undefined ? "" : JSON.stringify(value);
  return text.replace(TERMINAL_CONTROLS, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

export function formatRecord(r: LogRecord): string {
  const time = printable(r.time).replace("T", " ").replace(/\.\d+Z$|Z$/, "");
  return `[${time}] [${printable(r.levelname)}@${printable(r.name)}] ${printable(r.msg)}`;
}

/** Resolves when the stream ends (history shown with `historyOnly`, abort, or server close). */
export function followLogs(server: string, token: string, options: FollowOptions): Promise<void> {
  const url = `${server.replace(/^http/, "ws")}${API_PREFIX}/logs`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let authed = false;
    const finish = (err?: Error) => {
      options.signal?.removeEventListener("abort", onAbort);
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000);
      if (err) reject(err);
      else resolve();
    };
    const onAbort = () => finish();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    ws.addEventListener("open", () => ws.send(token));
    ws.addEventListener("error", () => finish(new ApiCallError(0, null, `cannot open the log stream at ${url}`)));
    ws.addEventListener("close", (event) => {
      if (!authed) finish(new ApiCallError(0, null, `the log stream closed before login (${event.code} ${event.reason || ""})`.trim()));
      else finish();
    });
    ws.addEventListener("message", (event) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(String(event.data));
      } catch {
        return;
      }
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return;
      const data = parsed as Record<string, unknown>;
      if ("auth_success" in data) {
        if (data["auth_success"] === true) authed = true;
        else finish(new ApiCallError(401, null, "the server refused the token: run `botyard-cli login` again"));
        return;
      }
      if (Array.isArray(data["history"])) {
        const tail = options.tail ?? 10;
        const history = data["history"] as LogRecord[];
        for (const r of tail > 0 ? history.slice(-tail) : []) options.onRecord(r);
        if (options.historyOnly) finish();
        return;
      }
      options.onRecord(data as LogRecord);
    });
  });
}
