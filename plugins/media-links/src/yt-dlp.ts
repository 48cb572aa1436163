// One extraction: yt-dlp as a child process downloading a link's media into a private temporary
// folder, with a time limit and the size limit enforced while it downloads (yt-dlp's own
// --max-filesize, plus the folder watchdog for servers that do not announce a size). The folder
// is the caller's: `withTempFolder` removes it whatever happens.
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runTool } from "./child-run.js";
import { watchFolder } from "./folder-watchdog.js";

/** What yt-dlp's info JSON tells about one item (fields it may leave out are optional). */
export interface ItemInfo {
  title?: string;
  description?: string;
  uploader?: string;
  width?: number;
  height?: number;
  /** Seconds. */
  duration?: number;
}

export interface DownloadedItem {
  path: string;
  size: number;
  info: ItemInfo;
}

export type ExtractOutcome =
  | { kind: "ok"; items: DownloadedItem[] }
  | { kind: "too_large" }
  | { kind: "timeout" }
  | { kind: "aborted" }
  | { kind: "failed"; reason: string };

export interface ExtractOptions {
  ytDlpPath: string;
  url: string;
  /** Empty folder the media is downloaded into. */
  dir: string;
  maxFileSize: number;
  maxItems: number;
  timeoutMs: number;
  signal?: AbortSignal;
  /** How often the folder is checked during the download (default 200 ms). */
  watchIntervalMs?: number;
}

const INFO_SUFFIX = ".info.json";
const MAX_INFO_BYTES = 4 * 1024 * 1024;
// Leftovers of an interrupted download, never media.
const PARTIAL = /\.(part|ytdl|temp|tmp)$|\.part-Frag\d+$/;

/**
 * yt-dlp's arguments. No user or system config, no cache, no update check, no playlists beyond
 * `maxItems`; one file per item (`b`: a format with audio and video, so no merging is needed);
 * the info JSON beside each file; names numbered in download order. The link comes after `--`,
 * so a link can never be read as an option.
 */
export function ytDlpArgs(url: string, dir: string, maxFileSize: number, maxItems: number): string[] {
  return [
    "--ignore-config",
    "--no-update",
    "--no-cache-dir",
    "--no-progress",
    "--no-color",
    "--no-mtime",
    "--no-write-playlist-metafiles",
    "--write-info-json",
    "--yes-playlist",
    "--playlist-items",
    `1:${maxItems}`,
    "--max-filesize",
    String(maxFileSize),
    "--socket-timeout",
    "20",
    "--retries",
    "1",
    "--fragment-retries",
    "1",
    "--format",
    "b[ext=mp4]/b",
    "--paths",
    dir,
    "--output",
    "%(autonumber)03d.%(ext)s",
    "--",
    url,
  ];
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v.trim() ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined;
}

/** The fields we use from an info JSON file (bounded in size; a broken one gives nothing). */
export async function readItemInfo(path: string): Promise<ItemInfo> {
  try {
    if ((await stat(path)).size > MAX_INFO_BYTES) return {};
    const raw = JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;
    const info: ItemInfo = {};
    const title = str(raw["title"]);
    const description = str(raw["description"]);
    const uploader = str(raw["uploader"]) ?? str(raw["channel"]) ?? str(raw["uploader_id"]);
    const width = num(raw["width"]);
    const height = num(raw["height"]);
    const duration = num(raw["duration"]);
    if (title) info.title = title;
    if (description) info.description = description;
    if (uploader) info.uploader = uploader;
    if (width) info.width = width;
    if (height) info.height = height;
    if (duration) info.duration = duration;
    return info;
  } catch {
    return {};
  }
}

/** The downloaded files of `dir` in download order, each with its info JSON. */
export async function downloadedItems(dir: string): Promise<DownloadedItem[]> {
  const names = (await readdir(dir)).sort();
  const items: DownloadedItem[] = [];
  for (const name of names) {
    if (name.endsWith(INFO_SUFFIX) || PARTIAL.test(name)) continue;
    const path = join(dir, name);
    const s = await stat(path);
    if (!s.isFile()) continue;
    const base = name.replace(/\.[^.]*$/, "");
    items.push({ path, size: s.size, info: await readItemInfo(join(dir, `${base}${INFO_SUFFIX}`)) });
  }
  return items;
}

/** The last line of yt-dlp's output that says what went wrong, without the "ERROR: " prefix. */
export function failureReason(stderr: string, stdout: string): string {
  const lines = `${stderr}\n${stdout}`.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const error = [...lines].reverse().find((l) => l.startsWith("ERROR:"));
  const line = error ?? lines[lines.length - 1] ?? "yt-dlp failed without a message";
  const clean = line.replace(/^ERROR:\s*/, "");
  return clean.length > 300 ? `${clean.slice(0, 299)}…` : clean;
}

const TOO_LARGE = /larger than max-filesize/i;

export async function extract(options: ExtractOptions): Promise<ExtractOutcome> {
  const abort = new AbortController();
  let tripped = false;
  const onOuterAbort = (): void => abort.abort();
  options.signal?.addEventListener("abort", onOuterAbort, { once: true });
  if (options.signal?.aborted) abort.abort();
  const stopWatching = watchFolder({
    dir: options.dir,
    maxFile: options.maxFileSize,
    // Every item may be as large as the limit, plus their small info files.
    maxTotal: options.maxFileSize * options.maxItems + MAX_INFO_BYTES * options.maxItems,
    intervalMs: options.watchIntervalMs ?? 200,
    onTrip: () => {
      tripped = true;
      abort.abort();
    },
  });
  try {
    const args = ytDlpArgs(options.url, options.dir, options.maxFileSize, options.maxItems);
    const result = await runTool(options.ytDlpPath, args, { timeoutMs: options.timeoutMs, cwd: options.dir, signal: abort.signal });
    if (tripped) return { kind: "too_large" };
    if (result.aborted) return { kind: "aborted" };
    if (result.timedOut) return { kind: "timeout" };
    const items = await downloadedItems(options.dir);
    // A download that finished between two polls is caught here.
    if (items.some((i) => i.size > options.maxFileSize)) return { kind: "too_large" };
    if (items.length === 0) {
      if (TOO_LARGE.test(result.stdout) || TOO_LARGE.test(result.stderr)) return { kind: "too_large" };
      if (result.code !== 0) return { kind: "failed", reason: failureReason(result.stderr, result.stdout) };
      return { kind: "failed", reason: "yt-dlp found no media at that link" };
    }
    return { kind: "ok", items };
  } finally {
    stopWatching();
    options.signal?.removeEventListener("abort", onOuterAbort);
  }
}

/**
 * Runs `fn` with a new private folder (mode 0700, under the system's temporary folder) and
 * removes the folder afterwards, whether `fn` resolved, threw or was aborted.
 */
export async function withTempFolder<T>(fn: (dir: string) => Promise<T>, parent: string = tmpdir()): Promise<T> {
  const dir = await mkdtemp(join(parent, "botyard-media-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}
