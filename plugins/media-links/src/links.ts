// Which links of a room message are to be fetched. Only what the sender wrote counts: the bot's
// own messages, edits (the original was seen already) and quoted text (a rich reply's fallback
// or a "> " quote: somebody else's link, usually fetched once already) are left alone.
import type { MatrixEvent } from "@botyard/sdk";

/** Longest link considered; longer tokens are not links anyone shares. */
export const MAX_LINK_LENGTH = 2048;

const LINK = /https?:\/\/[^\s<>"']+/gi;
// Punctuation that ends a sentence or closes a bracket, not part of the link.
const TRAILING = /[.,;:!?)\]}>*_~]+$/;

/** The body without quoted lines (reply fallbacks start with "> " lines). */
export function unquotedText(body: string): string {
  return body
    .split(/\r?\n/)
    .filter((line) => !line.startsWith(">"))
    .join("\n");
}

/** Every http(s) link of `text`, trailing punctuation removed, in order, without repeats. */
export function linksIn(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(LINK)) {
    const link = m[0].replace(TRAILING, "");
    if (link.length > MAX_LINK_LENGTH || out.includes(link)) continue;
    out.push(link);
  }
  return out;
}

/** True when one of `patterns` matches the whole link. */
export function matchesPatterns(link: string, patterns: readonly RegExp[]): boolean {
  if (link.length > MAX_LINK_LENGTH) return false;
  return patterns.some((p) => p.test(link));
}

/** An edit (`m.replace`) of an earlier message. */
export function isEdit(event: MatrixEvent): boolean {
  const rel = event.content["m.relates_to"];
  const relType = rel !== null && typeof rel === "object" ? (rel as Record<string, unknown>)["rel_type"] : undefined;
  return relType === "m.replace" || "m.new_content" in event.content;
}

/**
 * The links of `event` to fetch automatically: an `m.text` message from someone other than the
 * bot, not an edit, not a command; links in quoted lines are skipped. At most `max`.
 */
export function linksToFetch(event: MatrixEvent, botUserId: string, patterns: readonly RegExp[], max: number): string[] {
  if (event.type !== "m.room.message" || event.sender === botUserId || isEdit(event)) return [];
  if (event.content["msgtype"] !== "m.text") return [];
  const body = event.content["body"];
  if (typeof body !== "string" || body.startsWith("!")) return [];
  return linksIn(unquotedText(body))
    .filter((link) => matchesPatterns(link, patterns))
    .slice(0, max);
}

/** The cache key of a link: scheme and host lower-cased, no query or fragment, no trailing "/". */
export function cacheKey(link: string): string {
  try {
    const url = new URL(link);
    return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
  } catch {
    return link;
  }
}
