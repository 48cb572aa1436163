// One link from start to end: yt-dlp into a private temporary folder, each file checked (type
// from its bytes, size), measured (ffprobe) and given a thumbnail (ffmpeg, videos), uploaded
// from disk, posted in order as a reply to the link's message, then the caption. The folder is
// removed when this returns or throws, after the uploads that read from it.
import { mkdir, stat } from "node:fs/promises";
import type { MediaSource } from "@botyard/sdk";
import { join } from "node:path";
import { detectMediaType, makeThumbnail, probe } from "./media-file.js";
import { captionContent, mediaContent, type CaptionFacts, type PostedMedium, type ThumbnailRef } from "./messages.js";
import { extract, withTempFolder, type DownloadedItem } from "./yt-dlp.js";

/** The Matrix calls this needs (the plugin's client in production, a recorder in tests). */
export interface MediaSink {
  /** Uploads for a post into roomId: encrypted when that room is (the answer then holds `file`). */
  uploadFile(roomId: string, path: string, contentType: string, filename: string): Promise<MediaSource>;
  send(roomId: string, content: Record<string, unknown>): Promise<string>;
}

export interface PosterTools {
  ytDlpPath: string;
  /** null: not installed (no thumbnails / no measuring). */
  ffmpegPath: string | null;
  ffprobePath: string | null;
}

export interface FetchRequest {
  roomId: string;
  /** The message with the link (or the !media command): what the media replies to. */
  eventId: string;
  url: string;
}

/** A posted link, kept in the cache to answer the same link again without fetching. */
export interface PostedLink {
  media: PostedMedium[];
  caption: CaptionFacts;
}

export type FetchOutcome =
  | { kind: "posted"; link: PostedLink; skipped: number }
  | { kind: "too_large" }
  | { kind: "unsupported"; files: number }
  | { kind: "timeout" }
  | { kind: "aborted" }
  | { kind: "failed"; reason: string };

export interface PosterLimits {
  maxFileSize: number;
  maxMediaPerLink: number;
  timeoutMs: number;
  captionMaxLength: number;
}

/** Posts cached or fresh media of a link and its caption; resolves to the event ids sent. */
export async function postLink(sink: MediaSink, req: FetchRequest, link: PostedLink, captionMaxLength: number): Promise<string[]> {
  const ids: string[] = [];
  for (const m of link.media) ids.push(await sink.send(req.roomId, mediaContent(m, req.eventId)));
  const caption = captionContent(link.caption, captionMaxLength);
  if (caption) ids.push(await sink.send(req.roomId, caption));
  return ids;
}

async function thumbnailFor(sink: MediaSink, tools: PosterTools, roomId: string, video: string, out: string): Promise<ThumbnailRef | undefined> {
  if (!tools.ffmpegPath || !(await makeThumbnail(tools.ffmpegPath, video, out))) return undefined;
  const size = (await stat(out)).size;
  const dims = tools.ffprobePath ? await probe(tools.ffprobePath, out) : {};
  const source = await sink.uploadFile(roomId, out, "image/jpeg", "thumbnail.jpg");
  const ref: ThumbnailRef = { source, mimetype: "image/jpeg", size };
  if (dims.width && dims.height) {
    ref.w = dims.width;
    ref.h = dims.height;
  }
  return ref;
}

async function uploadItem(
  sink: MediaSink,
  tools: PosterTools,
  roomId: string,
  item: DownloadedItem,
  index: number,
  dir: string,
): Promise<PostedMedium | null> {
  const type = await detectMediaType(item.path);
  if (!type) return null;
  const dims = tools.ffprobePath ? await probe(tools.ffprobePath, item.path) : {};
  const filename = `media-${index + 1}.${type.ext}`;
  const medium: Omit<PostedMedium, "source"> = { msgtype: type.msgtype, filename, mimetype: type.mimetype, size: item.size };
  const w = dims.width ?? item.info.width;
  const h = dims.height ?? item.info.height;
  if (w && h) {
    medium.w = w;
    medium.h = h;
  }
  if (type.msgtype === "m.video") {
    const durationMs = dims.durationMs ?? (item.info.duration !== undefined ? Math.round(item.info.duration * 1000) : undefined);
    if (durationMs) medium.durationMs = durationMs;
    const thumbnail = await thumbnailFor(sink, tools, roomId, item.path, join(dir, `thumbnail-${index + 1}.jpg`));
    if (thumbnail) medium.thumbnail = thumbnail;
  }
  return { ...medium, source: await sink.uploadFile(roomId, item.path, type.mimetype, filename) };
}

function captionFacts(items: DownloadedItem[], media: PostedMedium[]): CaptionFacts {
  const info = items.find((i) => i.info.description || i.info.title)?.info ?? items[0]?.info ?? {};
  const first = media[0];
  const facts: CaptionFacts = {};
  const caption = info.description ?? info.title;
  if (caption) facts.caption = caption;
  if (info.uploader) facts.uploader = info.uploader;
  if (first?.w && first.h) {
    facts.width = first.w;
    facts.height = first.h;
  }
  const video = media.find((m) => m.durationMs);
  if (video?.durationMs) facts.durationMs = video.durationMs;
  return facts;
}

/** Fetches `req.url` and posts what it holds. Never leaves a file behind. */
export async function fetchAndPost(
  sink: MediaSink,
  tools: PosterTools,
  limits: PosterLimits,
  req: FetchRequest,
  signal?: AbortSignal,
  tempParent?: string,
): Promise<FetchOutcome> {
  return withTempFolder(async (dir) => {
    const downloads = join(dir, "media");
    await mkdir(downloads);
    const extracted = await extract({
      ytDlpPath: tools.ytDlpPath,
      url: req.url,
      dir: downloads,
      maxFileSize: limits.maxFileSize,
      maxItems: limits.maxMediaPerLink,
      timeoutMs: limits.timeoutMs,
      ...(signal ? { signal } : {}),
    });
    if (extracted.kind !== "ok") return extracted;
    const items = extracted.items.slice(0, limits.maxMediaPerLink);
    const media: PostedMedium[] = [];
    let skipped = 0;
    // Uploaded first, all of them, then posted: a failed upload posts nothing half-done.
    for (const [index, item] of items.entries()) {
      if (signal?.aborted) return { kind: "aborted" };
      const medium = await uploadItem(sink, tools, req.roomId, item, index, dir);
      if (medium) media.push(medium);
      else skipped++;
    }
    if (media.length === 0) return { kind: "unsupported", files: items.length };
    const link: PostedLink = { media, caption: captionFacts(items, media) };
    await postLink(sink, req, link, limits.captionMaxLength);
    return { kind: "posted", link, skipped };
  }, tempParent);
}
