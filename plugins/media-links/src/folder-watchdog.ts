// Watches the extraction's folder while yt-dlp downloads into it and trips when a file grows
// past the size limit. yt-dlp's own --max-filesize only helps when the server announces the
// size; a server that streams without Content-Length (or lies about it) is caught here, within
// one poll interval of crossing the limit.
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";

export interface FolderUsage {
  largest: number;
  total: number;
}

export async function folderUsage(dir: string): Promise<FolderUsage> {
  let largest = 0;
  let total = 0;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return { largest, total };
  }
  for (const name of names) {
    try {
      const s = await stat(join(dir, name));
      if (!s.isFile()) continue;
      largest = Math.max(largest, s.size);
      total += s.size;
    } catch {
      // Renamed or removed between readdir and stat (yt-dlp renames .part files): next poll.
    }
  }
  return { largest, total };
}

export interface WatchdogOptions {
  dir: string;
  /** Largest size one file may reach. */
  maxFile: number;
  /** Largest size all files together may reach. */
  maxTotal: number;
  intervalMs: number;
  /** Called once, when a limit is crossed. */
  onTrip: (usage: FolderUsage) => void;
}

/** Starts polling; the returned function stops it. */
export function watchFolder(options: WatchdogOptions): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const poll = async (): Promise<void> => {
    const usage = await folderUsage(options.dir);
    if (stopped) return;
    if (usage.largest > options.maxFile || usage.total > options.maxTotal) {
      stopped = true;
      options.onTrip(usage);
      return;
    }
    timer = setTimeout(() => void poll(), options.intervalMs);
  };
  timer = setTimeout(() => void poll(), options.intervalMs);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
