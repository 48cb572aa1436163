// The instance config (base-config.yaml merged with the operator's YAML, already checked by the
// host against config_schema) turned into typed settings in milliseconds. Every timing and
// threshold of the original is here, with the original's value as the default.

import { domainify } from "./domain.js";
import { OWNCAST_LIMITS } from "./text.js";

export interface BackoffStep {
  /** How long the instance has been failing when this step starts. */
  afterMs: number;
  /** Time between two attempts during this step. */
  intervalMs: number;
}

export interface RuleSettings {
  /** Time between two checks of a reachable stream. */
  pollIntervalMs: number;
  minNotificationIntervalMs: number;
  offlineGraceMs: number;
  /** Status Unknown once no check has succeeded for this long. */
  unknownAfterMs: number;
  cleanupWarningAfterMs: number;
  cleanupRemoveAfterMs: number;
  backoff: BackoffStep[];
  /** Polls are not exactly periodic: an attempt counts as due this much early. */
  scheduleSlackMs: number;
}

export interface HttpSettings {
  scheme: "https" | "http";
  port: number | null;
  allowPrivateAddresses: boolean;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  requestDeadlineMs: number;
  concurrency: number;
  maxSockets: number;
  maxJsonBytes: number;
  maxThumbnailBytes: number;
}

export interface SentrySettings {
  rules: RuleSettings;
  http: HttpSettings;
  limits: { name: number; title: number; tag: number };
  /** null: the room's `state_default` power level. */
  minPowerLevel: number | null;
  noticeMsgtype: "m.text" | "m.notice";
  thumbnail: boolean;
  webhook: { enabled: boolean; secrets: Record<string, string>; maxClockSkewMs: number };
}

/**
 * The original's effective time to Unknown. Its `failure_counter` rose once per 60-second cycle
 * from the first failed check on, polls skipped by `should_query_stream` included (the backoff
 * only decided whether to query), and Status showed Unknown once the counter passed
 * UNKNOWN_STATUS_THRESHOLD = 15. Last success at cycle 0, first failure at cycle 1 (counter 1),
 * counter 16 at cycle 16: Unknown 16 × 60 s = 960 s after the last successful check.
 */
export const DEFAULT_UNKNOWN_AFTER_SECONDS = 16 * 60;

export const DEFAULT_BACKOFF_SECONDS: ReadonlyArray<readonly [number, number]> = [
  [0, 60],
  [300, 120],
  [600, 180],
  [900, 300],
  [1800, 900],
];

type Raw = Record<string, unknown>;

function section(raw: Raw, key: string): Raw {
  const v = raw[key];
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Raw) : {};
}

function seconds(raw: Raw, key: string, fallback: number, min = 0): number {
  const v = raw[key];
  if (v === undefined || v === null) return fallback * 1000;
  if (typeof v !== "number" || !Number.isFinite(v) || v < min) {
    throw new Error(`config: ${key} must be a number of seconds >= ${min}`);
  }
  return v * 1000;
}

function integer(raw: Raw, key: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = raw[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new Error(`config: ${key} must be an integer between ${min} and ${max}`);
  }
  return v;
}

function bool(raw: Raw, key: string, fallback: boolean): boolean {
  const v = raw[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "boolean") throw new Error(`config: ${key} must be true or false`);
  return v;
}

function parseBackoff(v: unknown): BackoffStep[] {
  if (v === undefined || v === null) {
    return DEFAULT_BACKOFF_SECONDS.map(([a, i]) => ({ afterMs: a * 1000, intervalMs: i * 1000 }));
  }
  if (!Array.isArray(v) || v.length === 0) throw new Error("config: backoff must be a non-empty list");
  const steps = v.map((step, n) => {
    const s = (step ?? {}) as Raw;
    return { afterMs: seconds(s, "after_seconds", NaN), intervalMs: seconds(s, "interval_seconds", NaN, 0.001) };
  });
  for (const [n, s] of steps.entries()) {
    if (Number.isNaN(s.afterMs) || Number.isNaN(s.intervalMs)) throw new Error(`config: backoff[${n}] needs after_seconds and interval_seconds`);
    if (n > 0 && s.afterMs <= steps[n - 1]!.afterMs) throw new Error("config: backoff steps must have increasing after_seconds");
  }
  if (steps[0]!.afterMs !== 0) throw new Error("config: the first backoff step must have after_seconds: 0");
  return steps;
}

export function parseSettings(raw: Raw): SentrySettings {
  const http = section(raw, "http");
  const limits = section(raw, "limits");
  const webhook = section(raw, "webhook");
  const pollIntervalMs = seconds(raw, "poll_interval_seconds", 60, 0.001);
  const scheme = http["scheme"] ?? "https";
  if (scheme !== "https" && scheme !== "http") throw new Error("config: http.scheme must be https or http");
  const msgtype = raw["notice_msgtype"] ?? "m.text";
  if (msgtype !== "m.text" && msgtype !== "m.notice") throw new Error("config: notice_msgtype must be m.text or m.notice");
  const secretsRaw = section(webhook, "secrets");
  const secrets: Record<string, string> = {};
  for (const [key, secret] of Object.entries(secretsRaw)) {
    if (typeof secret !== "string" || secret === "") throw new Error(`config: webhook.secrets.${key} must be a non-empty string`);
    // Keyed as streams are (a key written as a URL must not leave that stream's webhook unsigned).
    const domain = domainify(key);
    if (domain === "") throw new Error(`config: webhook.secrets key ${JSON.stringify(key)} is not a domain`);
    secrets[domain] = secret;
  }
  const minPl = raw["min_power_level"];
  if (minPl !== undefined && minPl !== null && (typeof minPl !== "number" || !Number.isInteger(minPl))) {
    throw new Error("config: min_power_level must be an integer or null");
  }
  const port = http["port"];
  if (port !== undefined && port !== null && (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535)) {
    throw new Error("config: http.port must be a port number or null");
  }
  const settings: SentrySettings = {
    rules: {
      pollIntervalMs,
      minNotificationIntervalMs: seconds(raw, "min_notification_interval_seconds", 20 * 60),
      offlineGraceMs: seconds(raw, "offline_grace_seconds", 7 * 60),
      unknownAfterMs: seconds(raw, "unknown_after_seconds", DEFAULT_UNKNOWN_AFTER_SECONDS),
      cleanupWarningAfterMs: seconds(raw, "cleanup_warning_after_seconds", 83 * 86400),
      cleanupRemoveAfterMs: seconds(raw, "cleanup_remove_after_seconds", 90 * 86400),
      backoff: parseBackoff(raw["backoff"]),
      scheduleSlackMs: pollIntervalMs / 2,
    },
    http: {
      scheme,
      port: (port as number | null | undefined) ?? null,
      allowPrivateAddresses: bool(http, "allow_private_addresses", false),
      connectTimeoutMs: seconds(http, "connect_timeout_seconds", 5, 0.001),
      readTimeoutMs: seconds(http, "read_timeout_seconds", 5, 0.001),
      requestDeadlineMs: seconds(http, "request_deadline_seconds", 15, 0.001),
      concurrency: integer(http, "concurrency", 64, 1, 4096),
      maxSockets: integer(http, "max_sockets", 256, 1, 4096),
      maxJsonBytes: integer(http, "max_json_bytes", 256 * 1024, 1024),
      maxThumbnailBytes: integer(http, "max_thumbnail_bytes", 5 * 1024 * 1024, 1024),
    },
    limits: {
      name: integer(limits, "name", OWNCAST_LIMITS.name, 1, 10_000),
      title: integer(limits, "title", OWNCAST_LIMITS.title, 1, 10_000),
      tag: integer(limits, "tag", OWNCAST_LIMITS.tag, 1, 1_000),
    },
    minPowerLevel: (minPl as number | null | undefined) ?? null,
    noticeMsgtype: msgtype,
    thumbnail: bool(raw, "thumbnail", false),
    webhook: {
      enabled: bool(webhook, "enabled", true),
      secrets,
      maxClockSkewMs: seconds(webhook, "max_clock_skew_seconds", 300),
    },
  };
  if (settings.rules.cleanupRemoveAfterMs < settings.rules.cleanupWarningAfterMs) {
    throw new Error("config: cleanup_remove_after_seconds must not be shorter than cleanup_warning_after_seconds");
  }
  return settings;
}
