// A stand-in for a site with media, on 127.0.0.1: real media files made once with ffmpeg (a short
// MP4 with sound, a JPEG, a PNG), served so yt-dlp's generic extractor takes them as direct
// links. Routes:
//   /media/<name>        the file with Content-Length
//   /chunked/<name>?repeat=N  the file N times over, chunked, without Content-Length (the size
//                        is unknown to yt-dlp, so only the folder watchdog can stop it)
//   /slow/<name>         the headers, then a byte now and then (a download that never ends)
//   /post/<a>,<b>,...    an HTML page titled "A post" with a <video> of each file (yt-dlp's
//                        generic extractor makes it a playlist: several media of one post)
//   /missing/<name>      404
// Used by the plugin's tests, the end-to-end test and the bench.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface MediaFixture {
  name: string;
  path: string;
  mimetype: string;
  size: number;
  width: number;
  height: number;
  /** Milliseconds (videos). */
  durationMs?: number;
}

const TYPES: Record<string, string> = { mp4: "video/mp4", jpg: "image/jpeg", png: "image/png", webp: "image/webp", txt: "text/plain" };

function ffmpeg(args: string[]): void {
  execFileSync("ffmpeg", ["-nostdin", "-v", "error", "-y", ...args], { stdio: ["ignore", "ignore", "pipe"], timeout: 120_000 });
}

/**
 * Makes the fixtures in a new temporary folder: clip.mp4 (320×240, 2 s, H.264 + AAC), photo.jpg
 * (200×150), and photo-really-png.jpg (a PNG named .jpg: the type must come from the bytes).
 * `bigVideoBytes` adds big.mp4 of about that size (for the bench).
 */
export function makeFixtures(options: { bigVideoBytes?: number } = {}): { dir: string; files: Map<string, MediaFixture>; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "botyard-media-fixtures-"));
  const files = new Map<string, MediaFixture>();
  const add = (name: string, mimetype: string, width: number, height: number, durationMs?: number) => {
    const path = join(dir, name);
    files.set(name, { name, path, mimetype, size: statSync(path).size, width, height, ...(durationMs ? { durationMs } : {}) });
  };
  const clip = ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"];
  ffmpeg([...clip, "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart", join(dir, "clip.mp4")]);
  add("clip.mp4", "video/mp4", 320, 240, 2000);
  ffmpeg([...clip, "-t", "1", "-vf", "scale=160:120", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", join(dir, "clip-b.mp4")]);
  add("clip-b.mp4", "video/mp4", 160, 120, 1000);
  ffmpeg(["-f", "lavfi", "-i", "testsrc=size=200x150", "-frames:v", "1", join(dir, "photo.jpg")]);
  add("photo.jpg", "image/jpeg", 200, 150);
  ffmpeg(["-f", "lavfi", "-i", "testsrc=size=64x48", "-frames:v", "1", "-f", "image2", "-c:v", "png", join(dir, "photo-really-png.jpg")]);
  add("photo-really-png.jpg", "image/png", 64, 48);
  if (options.bigVideoBytes) {
    // Noise compresses badly, so the bitrate decides the size: bytes × 8 / 10 s.
    const kbps = Math.round((options.bigVideoBytes * 8) / 10 / 1000);
    ffmpeg([
      "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30,noise=alls=40:allf=t", "-t", "10",
      "-c:v", "libx264", "-preset", "ultrafast", "-b:v", `${kbps}k`, "-maxrate", `${kbps}k`, "-bufsize", `${kbps}k`,
      "-pix_fmt", "yuv420p", "-movflags", "+faststart", join(dir, "big.mp4"),
    ]);
    add("big.mp4", "video/mp4", 1280, 720, 10_000);
  }
  return { dir, files, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export class MediaServer {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly trickles = new Set<NodeJS.Timeout>();
  /** Requests per path (query left out). */
  readonly requests = new Map<string, number>();
  /** Bytes handed to the socket by each /chunked/ response, in order. */
  readonly chunkedBytes: number[] = [];
  port = 0;

  constructor(private readonly dir: string) {}

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  url(route: "media" | "chunked" | "slow" | "missing" | "post", name: string): string {
    return `${this.base}/${route}/${name}`;
  }

  requestsFor(route: string, name: string): number {
    return this.requests.get(`/${route}/${name}`) ?? 0;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const t of this.trickles) clearInterval(t);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", this.base);
    this.requests.set(url.pathname, (this.requests.get(url.pathname) ?? 0) + 1);
    const [, route, name] = /^\/(\w+)\/([\w.,-]+)$/.exec(url.pathname) ?? [];
    if (!route || !name || route === "missing") return void res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    if (route === "post") {
      const videos = name.split(",").map((n) => `<video src="/media/${n}"></video>`).join("\n");
      return void res.writeHead(200, { "content-type": "text/html" }).end(`<!doctype html><html><head><title>A post</title></head><body>${videos}</body></html>`);
    }
    let data: Buffer;
    try {
      data = readFileSync(join(this.dir, name));
    } catch {
      return void res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    }
    const type = TYPES[name.split(".").pop() ?? ""] ?? "application/octet-stream";
    if (route === "media") {
      res.writeHead(200, { "content-type": type, "content-length": data.length });
      if (req.method === "HEAD") return void res.end();
      return void res.end(data);
    }
    if (route === "chunked") {
      const repeat = Math.min(1000, Math.max(1, Number(url.searchParams.get("repeat") ?? 1)));
      res.writeHead(200, { "content-type": type });
      const slot = this.chunkedBytes.push(0) - 1;
      let sent = 0;
      // Written as the socket drains, at most `repeat` copies: the loop ends by itself.
      const more = (): void => {
        while (sent < repeat) {
          sent++;
          this.chunkedBytes[slot]! += data.length;
          if (!res.write(data)) return void res.once("drain", more);
        }
        res.end();
      };
      res.on("close", () => res.removeAllListeners("drain"));
      return more();
    }
    if (route === "slow") {
      res.writeHead(200, { "content-type": type, "content-length": data.length });
      let offset = 0;
      const timer = setInterval(() => {
        if (offset >= data.length || res.destroyed) {
          clearInterval(timer);
          this.trickles.delete(timer);
          return void res.end();
        }
        res.write(data.subarray(offset, offset + 16));
        offset += 16;
      }, 500);
      this.trickles.add(timer);
      res.on("close", () => {
        clearInterval(timer);
        this.trickles.delete(timer);
      });
      return;
    }
    res.writeHead(404).end();
  }
}
