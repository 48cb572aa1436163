// Drives the rules: polls every subscribed stream (each one independent and bounded in time),
// applies webhook events through the same rules, stores the outcome and delivers the notices.

import type { PluginLogger, WebRequest, WebResponse } from "@botyard/sdk";
import { fetchFailure, httpStatusFailure, notOwncastFailure, type CheckFailure } from "./check-failure.js";
import { parseJson, parseServerInfo, parseStatus, type StatusObservation } from "./owncast-api.js";
import type { OwncastFetcher } from "./owncast-http.js";
import { formatCleanupNotice, formatStreamNotice, type FormattedMessage } from "./messages.js";
import { sendInSubscriptionOrder, type NoticeSink, type StreamDelivery } from "./notice-delivery.js";
import { observe, observeFailure, observeSkip, shouldQuery, type Notice, type Outcome, type StreamRecord } from "./rules.js";
import type { SentrySettings } from "./settings.js";
import { sameRecord, type SentryStore, type Subscriber } from "./store.js";
import { verifySignature, webhookAction } from "./webhook.js";

export type StatusCheck = { ok: true; value: StatusObservation } | { ok: false; failure: CheckFailure };

/** Notices the rules decided, with what is needed to word them once the cycle ends. */
interface DecidedNotices {
  domain: string;
  subscribers: Subscriber[];
  notices: Notice[];
  record: StreamRecord;
}

export interface CycleStats {
  streams: number;
  queried: number;
  skipped: number;
  failed: number;
  notices: number;
}

const MAX_WEBHOOK_BYTES = 64 * 1024;
/** Stream records read per query during a poll cycle. */
const CYCLE_PAGE = 256;

/** The event content of a formatted message: HTML plus a clean body, pinging nobody. */
export function messageContent(message: FormattedMessage, msgtype: string): Record<string, unknown> {
  return {
    msgtype,
    body: message.body,
    format: "org.matrix.custom.html",
    formatted_body: message.html,
    "m.mentions": {},
  };
}

export interface MonitorDeps {
  store: SentryStore;
  fetcher: OwncastFetcher;
  sink: NoticeSink;
  settings: SentrySettings;
  log: PluginLogger;
  now?: () => number;
}

export class StreamMonitor {
  /** Streams with an operation running, each with the operations waiting for it. */
  private readonly locks = new Map<string, (() => void)[]>();
  private readonly now: () => number;
  private cycle: Promise<CycleStats> | null = null;
  private stopping = false;
  /**
   * Write counter, and the count at each stream's last write: tells a preloaded record is stale.
   * An outcome that changes nothing writes nothing, so its preloaded copy stays right.
   */
  private writes = 0;
  private readonly lastWrite = new Map<string, number>();

  constructor(private readonly deps: MonitorDeps) {
    this.now = deps.now ?? Date.now;
  }

  get settings(): SentrySettings {
    return this.deps.settings;
  }

  /**
   * New settings and HTTP client (config update). Work already under way finishes with the old
   * client; the returned promise resolves when no cycle started before the change is running.
   */
  reconfigure(settings: SentrySettings, fetcher: OwncastFetcher): Promise<void> {
    this.deps.settings = settings;
    this.deps.fetcher = fetcher;
    return (this.cycle ?? Promise.resolve()).then(() => undefined, () => undefined);
  }

  /** Runs operations on one stream one after another (a poll and a webhook never interleave). */
  private async withLock<T>(domain: string, fn: () => Promise<T>): Promise<T> {
    const waiting = this.locks.get(domain);
    if (waiting === undefined) this.locks.set(domain, []);
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const queue = this.locks.get(domain)!;
      const next = queue.shift();
      if (next) next();
      else this.locks.delete(domain);
    }
  }

  /**
   * The instance is stopping: requests cut short by closing the HTTP client are not failures of
   * the stream, so they are not recorded (a restart must not advance the backoff).
   */
  shutdown(): Promise<void> {
    this.stopping = true;
    return (this.cycle ?? Promise.resolve()).then(() => undefined, () => undefined);
  }

  /** One poll cycle over every subscribed stream; a cycle still running is joined, not doubled. */
  pollAll(): Promise<CycleStats> {
    if (this.cycle) return this.cycle;
    if (this.stopping) return Promise.resolve({ streams: 0, queried: 0, skipped: 0, failed: 0, notices: 0 });
    this.cycle = this.runCycle().finally(() => (this.cycle = null));
    return this.cycle;
  }

  private async runCycle(): Promise<CycleStats> {
    // Records are read a page at a time (one query per page instead of one per stream, and few
    // enough alive at once that they die young instead of filling V8's heap); a record written
    // after its page was read (webhook, command) is read again under the stream's lock.
    this.lastWrite.clear();
    this.deps.store.healMissingStreams();
    const stats: CycleStats = { streams: 0, queried: 0, skipped: 0, failed: 0, notices: 0 };
    const decided: DecidedNotices[] = [];
    let page: StreamRecord[] = [];
    let next = 0;
    let loadedAt = 0;
    let after = "";
    let done = false;
    const take = (): StreamRecord | null => {
      if (next === page.length) {
        if (done) return null;
        loadedAt = this.writes;
        page = this.deps.store.subscribedStreamsAfter(after, CYCLE_PAGE);
        next = 0;
        if (page.length < CYCLE_PAGE) done = true;
        if (page.length === 0) return null;
        after = page[page.length - 1]!.domain;
        stats.streams += page.length;
      }
      return page[next++]!;
    };
    // A fixed set of workers pulls streams off the pages: memory stays flat with 10,000 streams,
    // and one slow stream holds up only its worker, for at most the request deadline.
    const worker = async () => {
      for (let record = take(); record !== null; record = take()) {
        const domain = record.domain;
        await this.checkStream(domain, decided, stats, record, loadedAt).catch((err: Error) => this.deps.log.error(`[${domain}] poll failed: ${err.message}`));
      }
    };
    await Promise.all(Array.from({ length: this.settings.http.concurrency }, worker));
    // Sent once every check of the cycle is done, so each room gets them in its own order
    // whatever order the servers answered in (a hanging server delays them by at most the
    // request deadline).
    await this.send(decided);
    return stats;
  }

  /** A status just fetched (by `!subscribe`) taken as the stream's first observation, if it has none yet. */
  async recordFirstObservation(domain: string, status: StatusObservation): Promise<void> {
    await this.withLock(domain, async () => {
      const record = this.deps.store.get(domain);
      if (record === null || record.initialized) return;
      const decided: DecidedNotices[] = [];
      await this.apply(record, observe(record, status, this.now(), this.settings.rules), decided);
      await this.send(decided);
    });
  }

  private async checkStream(domain: string, decided: DecidedNotices[], stats?: CycleStats, preloaded?: StreamRecord, loadedAt = -1): Promise<void> {
    await this.withLock(domain, async () => {
      const fresh = preloaded !== undefined && (this.lastWrite.get(domain) ?? -1) < loadedAt;
      const record = fresh ? preloaded : this.deps.store.get(domain);
      if (record === null) return;
      const rules = this.settings.rules;
      if (!shouldQuery(record, this.now(), rules)) {
        if (stats) stats.skipped++;
        await this.apply(record, observeSkip(record, this.now(), rules), decided);
        return;
      }
      if (stats) stats.queried++;
      const status = await this.fetchStatus(domain);
      if (!status.ok) {
        if (this.stopping) return;
        if (stats) stats.failed++;
        this.deps.log.warn(`[${domain}] status check failed (${record.failureCount + 1} in a row): ${status.failure.detail}`);
        await this.apply(record, observeFailure(record, this.now(), rules), decided);
        return;
      }
      const outcome = observe(record, status.value, this.now(), rules);
      if (stats) stats.notices += outcome.notices.length;
      await this.apply(record, outcome, decided);
    });
  }

  /** `/api/status` fetched and validated; a failure says why (log detail and words for a room). */
  async fetchStatus(domain: string): Promise<StatusCheck> {
    let body: Buffer;
    try {
      const res = await this.deps.fetcher.get(domain, "/api/status", this.settings.http.maxJsonBytes);
      if (res.status !== 200) return { ok: false, failure: httpStatusFailure(res.status) };
      body = res.body;
    } catch (err) {
      return { ok: false, failure: fetchFailure(err instanceof Error ? err : new Error(String(err))) };
    }
    const json = parseJson(body);
    if (!json.ok) return { ok: false, failure: notOwncastFailure(json.error) };
    const status = parseStatus(json.value, this.settings.limits);
    return status.ok ? status : { ok: false, failure: notOwncastFailure(status.error) };
  }

  private async fetchServerInfo(domain: string): Promise<{ name: string; tags: string[] } | null> {
    try {
      const res = await this.deps.fetcher.get(domain, "/api/config", this.settings.http.maxJsonBytes);
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      const json = parseJson(res.body);
      if (!json.ok) throw new Error(json.error);
      const info = parseServerInfo(json.value, this.settings.limits);
      if (!info.ok) throw new Error(info.error);
      return info.value;
    } catch (err) {
      this.deps.log.warn(`[${domain}] could not read /api/config: ${(err as Error).message}`);
      return null;
    }
  }

  private async fetchThumbnail(domain: string): Promise<string | null> {
    try {
      const limit = this.settings.http.maxThumbnailBytes;
      const res = await this.deps.fetcher.get(domain, "/thumbnail.jpg", limit);
      const type = res.contentType.split(";")[0]!.trim().toLowerCase();
      // Without a frame yet, Owncast answers /thumbnail.jpg with its logo (any image type):
      // only a JPEG that is not the logo is a thumbnail.
      if (res.status !== 200 || type !== "image/jpeg" || res.body.length === 0) return null;
      const logo = await this.deps.fetcher.get(domain, "/logo", limit).catch(() => null);
      if (logo !== null && logo.status === 200 && logo.body.equals(res.body)) return null;
      return await this.deps.sink.upload(res.body, type, `${domain}-thumbnail.jpg`);
    } catch (err) {
      this.deps.log.warn(`[${domain}] no thumbnail: ${(err as Error).message}`);
      return null;
    }
  }

  /** Stores the outcome (only if it changed anything) and adds its notices to `decided`. */
  private async apply(previous: StreamRecord, outcome: Outcome, decided: DecidedNotices[]): Promise<void> {
    const domain = previous.domain;
    const record = outcome.record;
    for (const line of outcome.log) this.deps.log.info(`[${domain}] ${line}`);
    if (outcome.refreshServerInfo) {
      const info = await this.fetchServerInfo(domain);
      if (info) {
        record.name = info.name || null;
        record.tags = info.tags;
      }
    }
    if (outcome.remove) {
      this.lastWrite.set(domain, ++this.writes);
      const subscribers = this.deps.store.removeStream(domain);
      this.deps.log.info(`[${domain}] removed with its ${subscribers.length} subscription(s)`);
      decided.push({ domain, subscribers, notices: outcome.notices, record });
      return;
    }
    if (!sameRecord(previous, record)) {
      this.lastWrite.set(domain, ++this.writes);
      this.deps.store.save(record);
    }
    if (outcome.notices.length > 0) decided.push({ domain, subscribers: this.deps.store.subscribersOf(domain), notices: outcome.notices, record });
  }

  /** Words the decided notices (uploading thumbnails) and sends them in each room's order. */
  private async send(decided: DecidedNotices[]): Promise<void> {
    if (decided.length === 0) return;
    const deliveries = await Promise.all(decided.map((d) => this.word(d)));
    await sendInSubscriptionOrder(deliveries, this.deps.sink, this.deps.log);
  }

  private async word({ domain, subscribers, notices, record }: DecidedNotices): Promise<StreamDelivery> {
    const messages: StreamDelivery["messages"] = [];
    for (const notice of notices) {
      let message: FormattedMessage;
      if (notice.kind === "live" || notice.kind === "title") {
        const thumbnailUri = notice.kind === "live" && this.settings.thumbnail ? await this.fetchThumbnail(domain) : null;
        message = formatStreamNotice(notice.kind, {
          domain,
          name: record.name,
          title: notice.title,
          tags: record.tags,
          link: this.deps.fetcher.linkOf(domain),
          thumbnailUri,
        });
      } else {
        message = formatCleanupNotice(notice, domain);
      }
      // One msgtype for every notice to a room: m.text by default, which notifies (the original
      // sent all of them as m.text; the cleanup warning is worth an alert most of all).
      messages.push({ kind: notice.kind, content: messageContent(message, this.settings.noticeMsgtype) });
    }
    return { domain, subscribers, messages };
  }

  /** POST /webhook/<token> (the route is POST only): an Owncast webhook for one stream. */
  async handleWebhook(token: string, req: WebRequest): Promise<WebResponse> {
    const json = (status: number, body: Record<string, unknown>): WebResponse => ({
      status,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!this.settings.webhook.enabled) return json(404, { error: "webhooks are disabled" });
    if (!/^[0-9a-f]{32}$/.test(token)) return json(404, { error: "unknown webhook" });
    const record = this.deps.store.byWebhookToken(token);
    if (record === null) return json(404, { error: "unknown webhook" });
    if (req.body.byteLength > MAX_WEBHOOK_BYTES) return json(413, { error: "payload too large" });
    const secret = this.settings.webhook.secrets[record.domain];
    if (secret !== undefined) {
      const check = verifySignature(req.headers["owncast-signature"], secret, req.body, this.now(), this.settings.webhook.maxClockSkewMs);
      if (check !== "valid") {
        this.deps.log.warn(`[${record.domain}] webhook refused: signature ${check}`);
        return json(401, { error: `signature ${check}` });
      }
    }
    const payload = parseJson(req.body);
    if (!payload.ok) return json(400, { error: "body is not JSON" });
    return this.withLock(record.domain, async () => {
      const current = this.deps.store.get(record.domain);
      if (current === null) return json(404, { error: "unknown webhook" });
      const action = webhookAction(payload.value, current, this.settings.limits, new Date(this.now()).toISOString());
      if (action.kind === "ignore") return json(202, { ignored: action.reason });
      const outcome = observe(current, action.observation, this.now(), this.settings.rules);
      if (action.name !== null) outcome.record.name = action.name;
      const decided: DecidedNotices[] = [];
      await this.apply(current, outcome, decided);
      await this.send(decided);
      return json(200, { ok: true, notices: outcome.notices.length });
    });
  }
}
