// The events the room gets: each medium as `m.image` / `m.video` with its `info`, replying to the
// message with the link, then one caption text (plain body and escaped HTML). Every string that
// came from outside (caption, uploader, file name) is escaped and cut, and every event carries
// `m.mentions: {}`, so a caption saying "@room" pings nobody.
import type { MediaSource } from "@botyard/sdk";
import type { MediaKind } from "./media-file.js";

export interface ThumbnailRef {
  /** `{ url }`, or `{ file }` when it was encrypted for an encrypted room. */
  source: MediaSource;
  mimetype: string;
  size: number;
  w?: number;
  h?: number;
}

/** One uploaded medium, as the cache keeps it. */
export interface PostedMedium {
  msgtype: MediaKind;
  /** `{ url }`, or `{ file }` when it was encrypted for an encrypted room. */
  source: MediaSource;
  filename: string;
  mimetype: string;
  size: number;
  w?: number;
  h?: number;
  /** Milliseconds (videos). */
  durationMs?: number;
  thumbnail?: ThumbnailRef;
}

export interface CaptionFacts {
  caption?: string;
  uploader?: string;
  width?: number;
  height?: number;
  /** Milliseconds. */
  durationMs?: number;
}

export function mediaContent(m: PostedMedium, replyTo: string): Record<string, unknown> {
  const info: Record<string, unknown> = { mimetype: m.mimetype, size: m.size };
  if (m.w !== undefined && m.h !== undefined) {
    info["w"] = m.w;
    info["h"] = m.h;
  }
  if (m.msgtype === "m.video" && m.durationMs !== undefined) info["duration"] = m.durationMs;
  if (m.thumbnail) {
    const thumb = m.thumbnail.source;
    if (thumb.file) info["thumbnail_file"] = thumb.file;
    else info["thumbnail_url"] = thumb.url;
    const t: Record<string, unknown> = { mimetype: m.thumbnail.mimetype, size: m.thumbnail.size };
    if (m.thumbnail.w !== undefined && m.thumbnail.h !== undefined) {
      t["w"] = m.thumbnail.w;
      t["h"] = m.thumbnail.h;
    }
    info["thumbnail_info"] = t;
  }
  return {
    msgtype: m.msgtype,
    body: m.filename,
    filename: m.filename,
    ...m.source,
    info,
    "m.relates_to": { "m.in_reply_to": { event_id: replyTo } },
    "m.mentions": {},
  };
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** "50 MB", "2.5 MB", "10 kB" (decimal units, as max_file_size is written). */
export function formatBytes(bytes: number): string {
  if (bytes >= 1_000_000) return `${Number((bytes / 1_000_000).toFixed(bytes < 10_000_000 ? 1 : 0))} MB`;
  return `${Number((bytes / 1000).toFixed(bytes < 10_000 ? 1 : 0))} kB`;
}

/** "0:07", "1:02:03". */
export function formatDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

function cut(text: string, max: number): string {
  const clean = text.replace(/\r\n?/g, "\n").trim();
  return clean.length > max ? `${clean.slice(0, Math.max(0, max - 1))}…` : clean;
}

/** The caption message (plain `body`, escaped HTML), or null when there is nothing to say. */
export function captionContent(facts: CaptionFacts, maxLength: number): Record<string, unknown> | null {
  const details: string[] = [];
  if (facts.uploader) details.push(`by ${cut(facts.uploader, 100)}`);
  if (facts.width && facts.height) details.push(`${facts.width}×${facts.height}`);
  if (facts.durationMs) details.push(formatDuration(facts.durationMs));
  const caption = facts.caption && maxLength > 0 ? cut(facts.caption, maxLength) : "";
  if (!caption && details.length === 0) return null;
  const detailLine = details.join(" · ");
  const body = [caption, detailLine].filter(Boolean).join("\n");
  const htmlParts: string[] = [];
  if (caption) htmlParts.push(escapeHtml(caption).replace(/\n/g, "<br>"));
  if (detailLine) htmlParts.push(`<em>${escapeHtml(detailLine)}</em>`);
  return {
    msgtype: "m.notice",
    body,
    format: "org.matrix.custom.html",
    formatted_body: htmlParts.join("<br>"),
    "m.mentions": {},
  };
}
