// The instance config (base-config.yaml merged with the operator's YAML, already checked by the
// host against config_schema) turned into typed settings: times in milliseconds, patterns
// compiled. Checked again here because a plugin must not trust that the host's schema is the one
// it shipped (an operator may run an older bundle's config against a newer plugin).

export interface RateSettings {
  enabled: boolean;
  /** The whole instance: extractions per minute, and how many may come at once. */
  perMinute: number;
  burst: number;
  /** One room: extractions per minute, and how many may come at once. */
  roomPerMinute: number;
  roomBurst: number;
  /** First wait after a failed extraction; doubles with each failure in a row. */
  backoffMs: number;
  maxBackoffMs: number;
  /** Least time between the starts of two extractions. */
  minDelayMs: number;
  /** Requests waiting for their turn; more are refused. */
  maxQueue: number;
}

export interface MediaSettings {
  /** Empty: every room the bot is in. */
  roomSubscriptions: ReadonlySet<string>;
  autoFetch: boolean;
  urlPatterns: RegExp[];
  maxFileSize: number;
  maxMediaPerLink: number;
  maxLinksPerMessage: number;
  extractionTimeoutMs: number;
  ytDlpPath: string;
  ffmpegPath: string;
  ffprobePath: string;
  rate: RateSettings;
  /** 0: no cache. */
  cacheTtlMs: number;
  cacheEntries: number;
  /** Failures in a row from which each further failure is logged at ERROR, not WARN. */
  errorAfterFailures: number;
  captionMaxLength: number;
}

/** Instagram posts, reels, IGTV and public stories (what the seeds' bot fetched). */
export const DEFAULT_URL_PATTERNS = [
  String.raw`https?://(?:www\.)?instagram\.com/(?:[\w.]+/)?(?:p|reels?|tv)/[\w-]+/?(?:\?\S*)?`,
  String.raw`https?://(?:www\.)?instagram\.com/stories/[\w.]+/\d+/?(?:\?\S*)?`,
];

type Raw = Record<string, unknown>;

export class SettingsError extends Error {
  override readonly name = "SettingsError";
}

function section(raw: Raw, key: string): Raw {
  const v = raw[key];
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Raw) : {};
}

function integer(raw: Raw, key: string, fallback: number, min: number, max: number): number {
  const v = raw[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new SettingsError(`config: ${key} must be a whole number from ${min} to ${max}`);
  }
  return v;
}

function seconds(raw: Raw, key: string, fallback: number, min: number, max: number): number {
  const v = raw[key];
  if (v === undefined || v === null) return fallback * 1000;
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) {
    throw new SettingsError(`config: ${key} must be a number of seconds from ${min} to ${max}`);
  }
  return v * 1000;
}

function bool(raw: Raw, key: string, fallback: boolean): boolean {
  const v = raw[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "boolean") throw new SettingsError(`config: ${key} must be true or false`);
  return v;
}

function text(raw: Raw, key: string, fallback: string): string {
  const v = raw[key];
  if (v === undefined || v === null || v === "") return fallback;
  if (typeof v !== "string" || v.length > 4096) throw new SettingsError(`config: ${key} must be a path or command name`);
  return v;
}

function strings(raw: Raw, key: string, fallback: readonly string[], maxItems: number): string[] {
  const v = raw[key];
  if (v === undefined || v === null) return [...fallback];
  if (!Array.isArray(v) || v.length > maxItems || !v.every((s) => typeof s === "string")) {
    throw new SettingsError(`config: ${key} must be a list of at most ${maxItems} strings`);
  }
  return v as string[];
}

/** A pattern matches a whole link (anchored), case-insensitively. */
export function compilePattern(source: string): RegExp {
  if (source.length === 0 || source.length > 1000) throw new SettingsError("config: each url_patterns entry must have 1 to 1000 characters");
  try {
    return new RegExp(`^(?:${source})$`, "i");
  } catch (err) {
    throw new SettingsError(`config: url_patterns entry ${JSON.stringify(source)} is not a valid regular expression: ${(err as Error).message}`);
  }
}

export function parseSettings(raw: Raw): MediaSettings {
  const rate = section(raw, "rate_limiting");
  const rooms = strings(raw, "room_subscriptions", [], 1000);
  for (const room of rooms) {
    if (!/^!.+:.+$/.test(room)) throw new SettingsError(`config: room_subscriptions entry ${JSON.stringify(room)} is not a room id (!id:server)`);
  }
  const perMinute = integer(rate, "max_requests_per_minute", 10, 1, 60);
  return {
    roomSubscriptions: new Set(rooms),
    autoFetch: bool(raw, "auto_fetch", true),
    urlPatterns: strings(raw, "url_patterns", DEFAULT_URL_PATTERNS, 50).map(compilePattern),
    maxFileSize: integer(raw, "max_file_size", 50_000_000, 1024, 4_000_000_000),
    maxMediaPerLink: integer(raw, "max_media_per_link", 10, 1, 20),
    maxLinksPerMessage: integer(raw, "max_links_per_message", 3, 1, 10),
    extractionTimeoutMs: seconds(raw, "extraction_timeout_seconds", 120, 1, 3600),
    ytDlpPath: text(raw, "yt_dlp_path", "yt-dlp"),
    ffmpegPath: text(raw, "ffmpeg_path", "ffmpeg"),
    ffprobePath: text(raw, "ffprobe_path", "ffprobe"),
    rate: {
      enabled: bool(rate, "enabled", true),
      perMinute,
      burst: integer(rate, "burst_size", 3, 1, 60),
      roomPerMinute: integer(rate, "room_max_requests_per_minute", perMinute, 1, 60),
      roomBurst: integer(rate, "room_burst_size", integer(rate, "burst_size", 3, 1, 60), 1, 60),
      backoffMs: seconds(rate, "backoff_seconds", 30, 0, 86_400),
      maxBackoffMs: seconds(rate, "max_backoff_seconds", 900, 0, 86_400),
      minDelayMs: seconds(rate, "min_delay_seconds", 5, 0, 3600),
      maxQueue: integer(rate, "max_queue", 20, 1, 1000),
    },
    cacheTtlMs: seconds(raw, "cache_ttl", 0, 0, 7 * 86_400),
    cacheEntries: integer(raw, "cache_entries", 200, 1, 10_000),
    errorAfterFailures: integer(raw, "error_after_failures", 3, 1, 1000),
    captionMaxLength: integer(raw, "caption_max_length", 1000, 0, 10_000),
  };
}
