// The log history once (for the dashboard's latest errors): open the socket, take the history, close.
import { openLogSocket } from "./log-socket.js";
import type { LogEntry } from "./types.js";

export function logHistory(timeoutMs = 5_000): Promise<LogEntry[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      close();
      reject(new Error("The log stream did not answer in time."));
    }, timeoutMs);
    const close = openLogSocket({
      onRecords: (records) => {
        clearTimeout(timer);
        close();
        resolve(records);
      },
      onStatus: (status, detail) => {
        if (status === "closed") {
          clearTimeout(timer);
          reject(new Error(`The log stream closed: ${detail ?? "no reason given"}`));
        }
      },
    });
  });
}
