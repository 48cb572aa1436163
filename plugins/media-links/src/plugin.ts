// The botyard plugin: watches room messages for links matching url_patterns (and `!media <url>`),
// answers from the cache, applies the rate limits, queues the rest and posts what yt-dlp fetched.
// Failures are logged at WARN, and at ERROR from `error_after_failures` in a row on, so the
// host's error_notification_level decides what reaches the admin room.
import { Plugin, arg, type MatrixEvent, type MessageContext } from "@botyard/sdk";
import { toolWorks } from "./child-run.js";
import { ExtractionQueue } from "./extraction-queue.js";
import { FailureBackoff } from "./failure-backoff.js";
import { formatBytes } from "./messages.js";
import { cacheKey, linksToFetch, matchesPatterns } from "./links.js";
import { fetchAndPost, postLink, type FetchOutcome, type FetchRequest, type MediaSink, type PostedLink, type PosterTools } from "./media-poster.js";
import { RateLimits, type LimitVerdict } from "./rate-limits.js";
import { ResultCache } from "./result-cache.js";
import { parseSettings, type MediaSettings } from "./settings.js";

/** Rooms remembered as "already told about a limit"; cleared past this (worst case: told twice). */
const MAX_TOLD_ROOMS = 10_000;

/** Encrypted media can be posted again only where it was encrypted for (the key travels in that room's events). */
function roomCacheKey(req: FetchRequest): string {
  return `${req.roomId} ${cacheKey(req.url)}`;
}

function isEncrypted(link: PostedLink): boolean {
  return link.media.some((m) => m.source.file !== undefined);
}

export class MediaLinks extends Plugin {
  private settings!: MediaSettings;
  private tools!: PosterTools;
  private limits!: RateLimits;
  private backoff!: FailureBackoff;
  private cache!: ResultCache<PostedLink>;
  private queue!: ExtractionQueue<FetchRequest>;
  private readonly toldLimited = new Set<string>();
  private readonly stopping = new AbortController();
  /** Overridable clock (tests). */
  protected clock: () => number = Date.now;
  /** Where private temporary folders are made (tests point it at their own folder). */
  protected tempParent: string | undefined = undefined;

  override setup(): void {
    this.command({
      name: "media",
      help: "Fetch and post the media of a link",
      args: [arg.url("url")],
      handler: (ctx, args) => this.onCommand(ctx, args.url.href),
    });
    this.on("m.room.message", (evt) => this.onMessage(evt));
  }

  override async start(): Promise<void> {
    this.configure(this.config);
    const ytDlp = this.settings.ytDlpPath;
    if (!(await toolWorks(ytDlp, "--version"))) {
      throw new Error(
        `yt-dlp was not found or does not run (yt_dlp_path: ${JSON.stringify(ytDlp)}). ` +
          "Install it (Debian/Ubuntu: apt-get install yt-dlp) or set yt_dlp_path to its full path.",
      );
    }
    const ffmpeg = (await toolWorks(this.settings.ffmpegPath, "-version")) ? this.settings.ffmpegPath : null;
    const ffprobe = (await toolWorks(this.settings.ffprobePath, "-version")) ? this.settings.ffprobePath : null;
    if (!ffmpeg || !ffprobe) {
      this.log.info("ffmpeg/ffprobe not found: videos are posted without thumbnails, sizes come from yt-dlp (apt-get install ffmpeg adds both)");
    }
    this.tools = { ytDlpPath: ytDlp, ffmpegPath: ffmpeg, ffprobePath: ffprobe };
  }

  override async stop(): Promise<void> {
    this.stopping.abort();
    await this.queue?.stop();
  }

  override onConfigUpdate(config: Record<string, unknown>): void {
    const previous = this.settings;
    this.settings = parseSettings(config);
    const r = this.settings.rate;
    this.limits = new RateLimits(r, this.clock());
    this.backoff = new FailureBackoff(r.backoffMs, r.maxBackoffMs);
    if (this.settings.cacheTtlMs !== previous.cacheTtlMs || this.settings.cacheEntries !== previous.cacheEntries) {
      this.cache = new ResultCache(this.settings.cacheTtlMs, this.settings.cacheEntries);
    }
    this.queue.reconfigure(r.maxQueue, r.minDelayMs);
    // Paths apply from the next start (the tools were checked then).
  }

  /** Resolves when no extraction is waiting or running (tests, benches). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private configure(config: Record<string, unknown>): void {
    this.settings = parseSettings(config);
    const r = this.settings.rate;
    this.limits = new RateLimits(r, this.clock());
    this.backoff = new FailureBackoff(r.backoffMs, r.maxBackoffMs);
    this.cache = new ResultCache(this.settings.cacheTtlMs, this.settings.cacheEntries);
    this.queue = new ExtractionQueue<FetchRequest>({
      maxQueue: r.maxQueue,
      minDelayMs: r.minDelayMs,
      notBefore: () => (this.settings.rate.enabled ? this.backoff.notBefore : 0),
      run: (req) => this.runRequest(req),
      now: () => this.clock(),
      onError: (err) => this.log.error(`media request failed: ${err instanceof Error ? err.message : String(err)}`),
    });
  }

  private watches(roomId: string): boolean {
    return this.settings.roomSubscriptions.size === 0 || this.settings.roomSubscriptions.has(roomId);
  }

  private async onMessage(evt: MatrixEvent): Promise<void> {
    if (!this.settings.autoFetch || !this.watches(evt.room_id)) return;
    const links = linksToFetch(evt, this.userId, this.settings.urlPatterns, this.settings.maxLinksPerMessage);
    for (const url of links) await this.request({ roomId: evt.room_id, eventId: evt.event_id, url });
  }

  private async onCommand(ctx: MessageContext, url: string): Promise<void> {
    if (!this.watches(ctx.roomId)) return;
    if (!matchesPatterns(url, this.settings.urlPatterns)) {
      await ctx.reply("That is not a link I fetch media from (see url_patterns in my settings).", { markdown: false });
      return;
    }
    await this.request({ roomId: ctx.roomId, eventId: ctx.evt.event_id, url });
  }

  private get sink(): MediaSink {
    return {
      uploadFile: (roomId, path, contentType, filename) => this.client.uploadMediaFileForRoom(roomId, path, contentType, filename),
      send: (roomId, content) => this.client.sendEvent(roomId, "m.room.message", content),
    };
  }

  /** A link to post: from the cache, or through the limits into the queue. */
  private async request(req: FetchRequest): Promise<void> {
    const now = this.clock();
    const cached = this.cache.get(roomCacheKey(req), now) ?? (await this.plainCached(req, now));
    if (cached) {
      this.log.debug(`posting ${req.url} from the cache`);
      await postLink(this.sink, req, cached, this.settings.captionMaxLength);
      return;
    }
    const verdict = this.limits.tryTake(req.roomId, now);
    if (verdict !== "ok") return this.refuse(req, verdict);
    if (!this.queue.offer(req)) return this.refuse(req, "queue");
    this.toldLimited.delete(req.roomId);
  }

  /** A cached post of unencrypted media, for a room that is not encrypted (an encrypted room gets its media encrypted). */
  private async plainCached(req: FetchRequest, now: number): Promise<PostedLink | undefined> {
    const cached = this.cache.get(cacheKey(req.url), now);
    if (!cached) return undefined;
    try {
      return (await this.client.getStateEvent(req.roomId, "m.room.encryption")) === null ? cached : undefined;
    } catch {
      return undefined;
    }
  }

  /** Says once per room (until a request of that room goes through again) that links are skipped. */
  private async refuse(req: FetchRequest, why: LimitVerdict | "queue"): Promise<void> {
    this.log.info(`skipped ${req.url} in ${req.roomId}: ${why} limit`);
    if (this.toldLimited.has(req.roomId)) return;
    if (this.toldLimited.size >= MAX_TOLD_ROOMS) this.toldLimited.clear();
    this.toldLimited.add(req.roomId);
    const r = this.settings.rate;
    const text =
      why === "room"
        ? `Too many links here: I fetch at most ${r.roomPerMinute} per minute in a room (${r.roomBurst} at once). I skip links until then.`
        : why === "instance"
          ? `Too many links at once: I fetch at most ${r.perMinute} per minute in all rooms (${r.burst} at once). I skip links until then.`
          : `Too many links are waiting to be fetched (${r.maxQueue}). I skip links until the queue is shorter.`;
    await this.client.sendText(req.roomId, text, { msgtype: "m.notice", replyTo: req.eventId });
  }

  private async runRequest(req: FetchRequest): Promise<void> {
    const s = this.settings;
    let outcome: FetchOutcome;
    try {
      outcome = await fetchAndPost(
        this.sink,
        this.tools,
        { maxFileSize: s.maxFileSize, maxMediaPerLink: s.maxMediaPerLink, timeoutMs: s.extractionTimeoutMs, captionMaxLength: s.captionMaxLength },
        req,
        this.stopping.signal,
        this.tempParent,
      );
    } catch (err) {
      outcome = { kind: "failed", reason: err instanceof Error ? err.message : String(err) };
    }
    // Stopping: whatever broke was the stop itself (killed yt-dlp, refused calls); nothing to say.
    if (this.stopping.signal.aborted) return;
    await this.report(req, outcome);
  }

  private async report(req: FetchRequest, outcome: FetchOutcome): Promise<void> {
    const reply = (text: string) => this.client.sendText(req.roomId, text, { msgtype: "m.notice", replyTo: req.eventId });
    switch (outcome.kind) {
      case "posted":
        this.backoff.succeeded();
        this.cache.set(isEncrypted(outcome.link) ? roomCacheKey(req) : cacheKey(req.url), outcome.link, this.clock());
        this.log.info(`posted ${outcome.link.media.length} media of ${req.url} in ${req.roomId}`);
        return;
      case "aborted":
        return;
      case "too_large": {
        this.log.info(`refused ${req.url}: larger than max_file_size (${this.settings.maxFileSize} bytes)`);
        await reply(`That media is larger than ${formatBytes(this.settings.maxFileSize)}, the most I post; not posted.`);
        return;
      }
      case "unsupported":
        this.log.warn(`${req.url}: none of its ${outcome.files} files is mp4, jpg, png or webp`);
        await reply("That link has no media I can post (mp4, jpg, png or webp).");
        return;
      case "timeout":
      case "failed": {
        const wait = this.backoff.failed(this.clock());
        const n = this.backoff.consecutiveFailures;
        const why = outcome.kind === "timeout" ? `took longer than ${this.settings.extractionTimeoutMs / 1000} s` : outcome.reason;
        const msg = `extraction of ${req.url} failed (${n} in a row, next in ${Math.round(wait / 1000)} s at the earliest): ${why}`;
        if (n >= this.settings.errorAfterFailures) this.log.error(msg);
        else this.log.warn(msg);
        await reply("I could not fetch the media of that link.");
        return;
      }
    }
  }
}
