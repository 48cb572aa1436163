// Every string that comes from an Owncast server is untrusted: one line, bounded length,
// and escaped before it goes into HTML.

/** Owncast's own admin-UI limits (web/utils/config-constants.tsx). */
export const OWNCAST_LIMITS = { name: 255, title: 100, tag: 24 } as const;

// C0/C1 controls, line/paragraph separators and bidi overrides/isolates: anything that could
// break a line or reorder what a room sees.
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200b\ufeff]/g;

/** One line of at most `max` code points (never splits a surrogate pair). */
export function cleanText(value: unknown, max: number): string {
  if (typeof value !== "string") return "";
  const oneLine = value.replace(UNSAFE_CHARS, " ").replace(/\s+/g, " ").trim();
  if (oneLine.length <= max) return oneLine; // UTF-16 length ≥ code points: nothing to cut
  const chars = Array.from(oneLine);
  return chars.length <= max ? oneLine : chars.slice(0, max).join("").trimEnd();
}

/** Cleaned, truncated tags; empty ones and those starting with "." are dropped (as the original meant to). */
export function cleanTags(value: unknown, max: number = OWNCAST_LIMITS.tag): string[] {
  if (!Array.isArray(value)) return [];
  const tags: string[] = [];
  for (const raw of value) {
    const tag = cleanText(raw, max);
    if (tag !== "" && !tag.startsWith(".")) tags.push(tag);
  }
  return tags;
}

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/**
 * "1 second", "3 minutes", "2 hours", "83 days": the original's `_format_duration` units.
 * `qualifier` goes between number and unit: "7 more days", as the original's cleanup warning.
 */
export function formatDuration(ms: number, qualifier?: string): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const unit = (n: number, word: string) => `${n} ${qualifier === undefined ? "" : `${qualifier} `}${word}${n === 1 ? "" : "s"}`;
  if (seconds < 60) return unit(seconds, "second");
  if (seconds < 3600) return unit(Math.floor(seconds / 60), "minute");
  if (seconds < 86400) return unit(Math.floor(seconds / 3600), "hour");
  return unit(Math.floor(seconds / 86400), "day");
}

/** Parses Owncast's RFC 3339 times (whole seconds or nanoseconds, any offset); null if unreadable. */
export function parseOwncastTime(value: string | null): number | null {
  if (value === null) return null;
  // V8 only reads up to millisecond precision reliably: cut longer fractions to 3 digits.
  const normalised = value.replace(/(\.\d{3})\d+/, "$1");
  const ms = Date.parse(normalised);
  return Number.isFinite(ms) ? ms : null;
}
