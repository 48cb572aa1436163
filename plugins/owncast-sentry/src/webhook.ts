// Owncast webhooks: signature check (Owncast 0.3.0+: `owncast-signature: t=<unix>.s=<hex>` with
// s = HMAC-SHA256(secret, "<t>.<raw body>")) and the mapping of the three stream events onto
// the same observations the poller makes. Every other event type is ignored.

import { createHmac, timingSafeEqual } from "node:crypto";
import { cleanText } from "./text.js";
import type { Observation, StreamRecord } from "./rules.js";
import type { TextLimits } from "./owncast-api.js";

export type SignatureCheck = "valid" | "missing" | "malformed" | "expired" | "mismatch";

/** Parses `t=<unix>.s=<hex>` (a comma between the parts is accepted too). */
function parseSignatureHeader(header: string): { t: number; s: Buffer } | null {
  const m = /^\s*t=(\d{1,12})[.,]\s*s=([0-9a-fA-F]{64})\s*$/.exec(header);
  if (!m) return null;
  return { t: Number(m[1]), s: Buffer.from(m[2]!, "hex") };
}

export function verifySignature(
  header: string | undefined,
  secret: string,
  body: Uint8Array,
  now: number,
  maxSkewMs: number,
): SignatureCheck {
  if (header === undefined || header === "") return "missing";
  const parsed = parseSignatureHeader(header);
  if (parsed === null) return "malformed";
  if (Math.abs(now - parsed.t * 1000) > maxSkewMs) return "expired";
  const expected = createHmac("sha256", secret).update(`${parsed.t}.`).update(body).digest();
  return timingSafeEqual(expected, parsed.s) ? "valid" : "mismatch";
}

export type WebhookAction =
  | { kind: "ignore"; reason: string }
  | { kind: "observe"; observation: Observation; name: string | null };

function str(v: unknown): string | null {
  return typeof v === "string" && v.length <= 64 && v !== "" ? v : null;
}

/**
 * STREAM_STARTED / STREAM_STOPPED / STREAM_TITLE_UPDATED → an observation of the stream.
 * STREAM_STARTED is sent at RTMP connect, before `status.online` turns true: the event type
 * decides, not `status.online`.
 */
export function webhookAction(payload: unknown, record: StreamRecord, limits: TextLimits, nowIso: string): WebhookAction {
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) return { kind: "ignore", reason: "not a JSON object" };
  const p = payload as Record<string, unknown>;
  const type = p["type"];
  const data = p["eventData"] !== null && typeof p["eventData"] === "object" && !Array.isArray(p["eventData"]) ? (p["eventData"] as Record<string, unknown>) : {};
  const status = data["status"] !== null && typeof data["status"] === "object" ? (data["status"] as Record<string, unknown>) : {};
  const name = typeof data["name"] === "string" ? cleanText(data["name"], limits.name) || null : null;
  const title = typeof data["streamTitle"] === "string" ? cleanText(data["streamTitle"], limits.title) : null;
  const when = str(data["timestamp"]) ?? nowIso;
  switch (type) {
    case "STREAM_STARTED":
      return {
        kind: "observe",
        name,
        observation: {
          lastConnectTime: str(status["lastConnectTime"]) ?? record.lastConnectTime ?? when,
          lastDisconnectTime: null,
          title: title ?? record.title ?? "",
        },
      };
    case "STREAM_STOPPED":
      return {
        kind: "observe",
        name,
        observation: {
          lastConnectTime: null,
          lastDisconnectTime: str(status["lastDisconnectTime"]) ?? when,
          title: title ?? record.title ?? "",
        },
      };
    case "STREAM_TITLE_UPDATED":
      if (title === null) return { kind: "ignore", reason: "title update without a title" };
      // Offline title edits are not announced (as with polling): the state stays as it is.
      if (record.lastConnectTime === null) return { kind: "ignore", reason: "title changed while offline" };
      return {
        kind: "observe",
        name,
        observation: { lastConnectTime: record.lastConnectTime, lastDisconnectTime: record.lastDisconnectTime, title },
      };
    default:
      return { kind: "ignore", reason: `event type ${typeof type === "string" ? type.slice(0, 40) : "missing"} is not handled` };
  }
}
