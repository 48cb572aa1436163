// Validation of what an Owncast server answers. The server is untrusted: every field is checked
// for type, strings are cleaned and truncated, unknown keys are ignored.

import { cleanTags, cleanText } from "./text.js";

/** What one `/api/status` answer says about a stream. `lastConnectTime` set means live. */
export interface StatusObservation {
  lastConnectTime: string | null;
  lastDisconnectTime: string | null;
  title: string;
  online: boolean;
  viewerCount: number | null;
}

export interface ServerInfo {
  name: string;
  tags: string[];
}

export interface TextLimits {
  name: number;
  title: number;
  tag: number;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const MAX_TIME_LENGTH = 64;

function timeField(v: unknown): string | null | undefined {
  if (v === null) return null;
  if (typeof v === "string" && v.length <= MAX_TIME_LENGTH && v !== "") return v;
  return undefined;
}

/**
 * The original required `lastConnectTime`, `lastDisconnectTime`, `streamTitle` and `online` to be
 * present; this also checks their types. `viewerCount` is absent at zero or when hidden.
 */
export function parseStatus(json: unknown, limits: TextLimits): Parsed<StatusObservation> {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return { ok: false, error: "status is not a JSON object" };
  const o = json as Record<string, unknown>;
  for (const key of ["lastConnectTime", "lastDisconnectTime", "streamTitle", "online"]) {
    if (!(key in o)) return { ok: false, error: `status has no ${key}` };
  }
  const lastConnectTime = timeField(o["lastConnectTime"]);
  if (lastConnectTime === undefined) return { ok: false, error: "status lastConnectTime is not a time or null" };
  const lastDisconnectTime = timeField(o["lastDisconnectTime"]);
  if (lastDisconnectTime === undefined) return { ok: false, error: "status lastDisconnectTime is not a time or null" };
  const rawTitle = o["streamTitle"];
  if (rawTitle !== null && typeof rawTitle !== "string") return { ok: false, error: "status streamTitle is not a string" };
  if (typeof o["online"] !== "boolean") return { ok: false, error: "status online is not a boolean" };
  const vc = o["viewerCount"];
  return {
    ok: true,
    value: {
      lastConnectTime,
      lastDisconnectTime,
      title: cleanText(rawTitle, limits.title),
      online: o["online"],
      viewerCount: typeof vc === "number" && Number.isInteger(vc) && vc >= 0 ? vc : null,
    },
  };
}

/** `/api/config`: only `name` and `tags` are used; `tags: null` is an empty list. */
export function parseServerInfo(json: unknown, limits: TextLimits): Parsed<ServerInfo> {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return { ok: false, error: "config is not a JSON object" };
  const o = json as Record<string, unknown>;
  return { ok: true, value: { name: cleanText(o["name"], limits.name), tags: cleanTags(o["tags"], limits.tag) } };
}

/** Parses bytes as JSON without throwing. */
export function parseJson(body: Uint8Array): Parsed<unknown> {
  try {
    return { ok: true, value: JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8")) };
  } catch (err) {
    return { ok: false, error: `not JSON: ${(err as Error).message}` };
  }
}
