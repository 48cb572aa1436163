// The host's requests to one worker that await their reply: each gets a request id, a time limit,
// and fails at once when the worker dies.
import type { WorkerReply } from "./plugin-protocol.js";
import { RequestTimeoutError } from "./worker-errors.js";

type Pending = { resolve: (reply: WorkerReply) => void; reject: (err: Error) => void };

export class PendingRequests {
  private readonly pending = new Map<number, Pending>();
  private nextReqId = 1;

  /**
   * Sends a request (`send` gets its id) and resolves with its reply; rejects with a
   * RequestTimeoutError naming `what` when none comes within `timeoutMs`.
   */
  open(send: (reqId: number) => void, timeoutMs: number, what: string): Promise<WorkerReply> {
    const reqId = this.nextReqId++;
    return new Promise<WorkerReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(reqId);
        reject(new RequestTimeoutError(what, timeoutMs));
      }, timeoutMs);
      this.pending.set(reqId, {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      send(reqId);
    });
  }

  /** Hands `reply` to its request; false when none waits for it (it timed out, or the id is unknown). */
  settle(reply: WorkerReply): boolean {
    const pending = this.pending.get(reply.reqId);
    if (!pending) return false;
    this.pending.delete(reply.reqId);
    pending.resolve(reply);
    return true;
  }

  /** Fails every request in flight with `err`. */
  failAll(err: Error): void {
    for (const pending of this.pending.values()) pending.reject(err);
    this.pending.clear();
  }
}
