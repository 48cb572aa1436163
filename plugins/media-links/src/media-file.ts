// What a downloaded file really is: its type from its first bytes (file-type's magic numbers, not
// the name yt-dlp gave it: a server can call anything .mp4), and its dimensions and duration from
// ffprobe when that is installed.
import { open } from "node:fs/promises";
import { fileTypeFromBuffer } from "file-type";
import { runTool, ToolMissingError } from "./child-run.js";

export type MediaKind = "m.image" | "m.video";

export interface MediaType {
  mimetype: string;
  /** File name extension to give it. */
  ext: string;
  msgtype: MediaKind;
}

/** The formats posted (the seeds' list: mp4, jpg/jpeg, png, webp), by detected MIME type. */
const ACCEPTED: Record<string, MediaType> = {
  "video/mp4": { mimetype: "video/mp4", ext: "mp4", msgtype: "m.video" },
  "image/jpeg": { mimetype: "image/jpeg", ext: "jpg", msgtype: "m.image" },
  "image/png": { mimetype: "image/png", ext: "png", msgtype: "m.image" },
  "image/webp": { mimetype: "image/webp", ext: "webp", msgtype: "m.image" },
};

/** Bytes read to recognise a file; file-type needs a few KiB for MP4's boxes. */
const SNIFF_BYTES = 4100;

async function head(path: string): Promise<Uint8Array> {
  const handle = await open(path, "r");
  try {
    const buf = new Uint8Array(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buf, 0, SNIFF_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The accepted type of the file at `path`, or null for anything else. */
export async function detectMediaType(path: string): Promise<MediaType | null> {
  const type = await fileTypeFromBuffer(await head(path));
  return (type && ACCEPTED[type.mime]) ?? null;
}

/** The same, for bytes already in memory (tests). */
export async function detectMediaTypeOf(bytes: Uint8Array): Promise<MediaType | null> {
  const type = await fileTypeFromBuffer(bytes.subarray(0, SNIFF_BYTES));
  return (type && ACCEPTED[type.mime]) ?? null;
}

export interface Probe {
  width?: number;
  height?: number;
  /** Milliseconds. */
  durationMs?: number;
}

interface FfprobeOutput {
  streams?: Array<{ codec_type?: string; width?: number; height?: number; duration?: string }>;
  format?: { duration?: string };
}

/** Width, height and duration from ffprobe; empty when ffprobe is missing or cannot read it. */
export async function probe(ffprobePath: string, path: string, timeoutMs = 20_000): Promise<Probe> {
  try {
    const r = await runTool(ffprobePath, ["-v", "error", "-print_format", "json", "-show_streams", "-show_format", path], { timeoutMs });
    if (r.code !== 0) return {};
    const out = JSON.parse(r.stdout) as FfprobeOutput;
    const video = out.streams?.find((s) => s.codec_type === "video");
    const result: Probe = {};
    if (video?.width && video.height) {
      result.width = video.width;
      result.height = video.height;
    }
    const seconds = Number(out.format?.duration ?? video?.duration);
    if (Number.isFinite(seconds) && seconds > 0) result.durationMs = Math.round(seconds * 1000);
    return result;
  } catch (err) {
    if (err instanceof ToolMissingError || err instanceof SyntaxError) return {};
    throw err;
  }
}

/**
 * A JPEG frame of the video at `path`, at most 800 px wide, written to `out`. False when ffmpeg
 * is missing or fails (the video is then posted without a thumbnail).
 */
export async function makeThumbnail(ffmpegPath: string, path: string, out: string, timeoutMs = 30_000): Promise<boolean> {
  try {
    const r = await runTool(
      ffmpegPath,
      ["-nostdin", "-v", "error", "-y", "-i", path, "-frames:v", "1", "-vf", "scale='min(800,iw)':-2", "-f", "image2", "-c:v", "mjpeg", out],
      { timeoutMs },
    );
    return r.code === 0;
  } catch (err) {
    if (err instanceof ToolMissingError) return false;
    throw err;
  }
}
