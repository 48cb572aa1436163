// The worker's side of web response bodies: checks a plugin's answer (status, headers, body type
// and size) and keeps a body larger than one chunk here until the host pulls it piece by piece,
// so the host never holds a whole body, and a body over the limit never leaves the worker.
import type { WebResponse } from "@botyard/sdk";
import { WEB_BODY_CHUNK_BYTES, type WebFailure, type WebResponseHead, type WorkerToHost } from "./plugin-protocol.js";

type WebAnswer = Extract<WorkerToHost, { type: "WEB_RESPONSE" }>;
type WebBodyMessage = Extract<WorkerToHost, { type: "WEB_BODY" }>;

interface PendingBody {
  data: Uint8Array;
  offset: number;
}

export class WebBodyOutbox {
  private readonly bodies = new Map<number, PendingBody>();

  /**
   * @param onRelease called with the size of a body this outbox no longer needs: refused, sent to
   *   its end, or cancelled (small bodies sent inline are not reported)
   */
  constructor(
    private readonly maxBytes: number,
    private readonly onRelease: (bytes: number) => void = () => undefined,
    private readonly chunkBytes = WEB_BODY_CHUNK_BYTES,
  ) {}

  /** The message answering request `reqId` with `response`; a body to stream stays here under that id. */
  answer(reqId: number, response: WebResponse): WebAnswer {
    const checked = checkResponse(response);
    if ("message" in checked) return { type: "WEB_RESPONSE", reqId, failure: { kind: "handler", message: checked.message } };
    const { status, headers, body } = checked;
    const bytes = body === undefined ? 0 : typeof body === "string" ? Buffer.byteLength(body, "utf8") : body.byteLength;
    if (bytes > this.maxBytes) {
      this.onRelease(bytes);
      return { type: "WEB_RESPONSE", reqId, failure: tooLarge(bytes, this.maxBytes) };
    }
    const head: WebResponseHead = { status, headers, bytes };
    if (body === undefined || bytes === 0) return { type: "WEB_RESPONSE", reqId, head };
    if (bytes <= this.chunkBytes) return { type: "WEB_RESPONSE", reqId, head: { ...head, body } };
    this.bodies.set(reqId, { data: typeof body === "string" ? Buffer.from(body, "utf8") : body, offset: 0 });
    return { type: "WEB_RESPONSE", reqId, head };
  }

  /** The next chunk of body `streamId` (a copy, so its buffer can be transferred), or null when there is none. */
  pull(streamId: number): WebBodyMessage | null {
    const pending = this.bodies.get(streamId);
    if (!pending) return null;
    const end = Math.min(pending.offset + this.chunkBytes, pending.data.byteLength);
    const chunk = new Uint8Array(pending.data.subarray(pending.offset, end));
    pending.offset = end;
    const last = end === pending.data.byteLength;
    if (last) this.release(streamId);
    return { type: "WEB_BODY", streamId, chunk, last };
  }

  cancel(streamId: number): void {
    this.release(streamId);
  }

  private release(streamId: number): void {
    const pending = this.bodies.get(streamId);
    if (!pending) return;
    this.bodies.delete(streamId);
    this.onRelease(pending.data.byteLength);
  }

  /** Bodies waiting to be pulled (for tests). */
  get size(): number {
    return this.bodies.size;
  }
}

function tooLarge(bytes: number, limit: number): WebFailure {
  return { kind: "too_large", bytes, limit };
}

/** The plugin's answer in the shape the host sends, or what is wrong with it (plugin code may return anything). */
function checkResponse(response: WebResponse): { status: number; headers: Record<string, string>; body: Uint8Array | string | undefined } | { message: string } {
  if (typeof response !== "object" || response === null) return { message: "the web handler returned no response object" };
  const { status, headers, body } = response;
  if (!Number.isInteger(status) || status < 100 || status > 599) return { message: `the web handler returned status ${String(status)}; use 100 to 599` };
  if (body !== undefined && typeof body !== "string" && !(body instanceof Uint8Array)) {
    return { message: "the web handler's body must be a string or a Uint8Array" };
  }
  const plain: Record<string, string> = {};
  if (headers !== undefined) {
    if (typeof headers !== "object" || headers === null) return { message: "the web handler's headers must be an object" };
    for (const [name, value] of Object.entries(headers)) plain[name] = String(value);
  }
  return { status, headers: plain, body };
}
