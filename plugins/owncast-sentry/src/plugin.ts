// The botyard plugin: commands, the poll schedule and the webhook endpoint, wired onto the
// plain modules that do the work (store, rules, HTTP client, messages).

import { Plugin, arg, userPowerLevel, type MessageContext, type Migration, type TaskHandle } from "@botyard/sdk";
import { describeForRoom } from "./check-failure.js";
import { domainify } from "./domain.js";
import type { StatusObservation } from "./owncast-api.js";
import { formatLive, formatSubscriptions, replies, type FormattedMessage, type ListedStream } from "./messages.js";
import { OwncastHttpClient, type OwncastFetcher, type Resolver } from "./owncast-http.js";
import { streamStatus } from "./rules.js";
import { parseSettings, type SentrySettings } from "./settings.js";
import { MIGRATIONS, SentryStore } from "./store.js";
import { StreamMonitor, messageContent } from "./stream-monitor.js";

export class OwncastSentry extends Plugin {
  private settings!: SentrySettings;
  private store!: SentryStore;
  private fetcher!: OwncastFetcher;
  private monitor!: StreamMonitor;
  private firstCycle: Promise<unknown> = Promise.resolve();
  /** The periodic poll (tests that script time cancel it and run cycles themselves). */
  protected pollTask: TaskHandle | null = null;

  /** Overridable by tests and benches (names mapped to 127.0.0.1); the system resolver otherwise. */
  protected resolver?: Resolver;
  /** Overridable clock, for tests that script time. */
  protected clock: () => number = Date.now;

  override dbMigrations(): readonly Migration[] {
    return MIGRATIONS;
  }

  // Exported as botyard_plugin_owncast_* when the operator has metrics on (no-ops otherwise).
  private readonly metricChecks = this.metrics.counter("owncast_status_checks_total", "Stream status checks made by poll cycles", ["outcome"]);
  private readonly metricCycle = this.metrics.histogram("owncast_poll_cycle_seconds", "Duration of a poll cycle over every subscribed stream", [], [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60]);
  private readonly metricStreams = this.metrics.gauge("owncast_streams", "Streams with at least one subscribed room");
  private readonly metricNotices = this.metrics.counter("owncast_notices_total", "Notices decided (go-live, title change, cleanup), by what noticed them", ["source"]);
  private readonly metricWebhooks = this.metrics.counter("owncast_webhooks_total", "Webhook deliveries: accepted, ignored (not an event that matters) or refused", ["outcome"]);

  override setup(): void {
    this.command({
      name: "subscribe",
      help: "Subscribes to a new Owncast stream.",
      args: [arg.word("url")],
      handler: (ctx, args) => this.subscribe(ctx, args.url),
    });
    this.command({
      name: "unsubscribe",
      help: "Unsubscribes from an Owncast stream.",
      args: [arg.word("url")],
      handler: (ctx, args) => this.unsubscribe(ctx, args.url),
    });
    this.command({ name: "subscriptions", help: "Lists all stream subscriptions in this room.", handler: (ctx) => this.listSubscriptions(ctx) });
    this.command({ name: "live", help: "Lists currently live streams in this room.", handler: (ctx) => this.listLive(ctx) });
    this.web.post("/webhook/:token", async (req) => {
      const res = await this.monitor.handleWebhook(req.params["token"] ?? "", req);
      this.metricWebhooks.inc({ outcome: res.status === 200 ? "accepted" : res.status === 202 ? "ignored" : "refused" });
      if (res.status === 200 && typeof res.body === "string") {
        const notices = (JSON.parse(res.body) as { notices?: unknown }).notices;
        if (typeof notices === "number" && notices > 0) this.metricNotices.inc({ source: "webhook" }, notices);
      }
      return res;
    });
  }

  override start(): void {
    this.store = new SentryStore(this.db);
    this.configure(this.config);
    this.pollTask = this.scheduler.every(this.settings.rules.pollIntervalMs, () => this.pollNow(), { name: "poll" });
    // Right away too: all state is in the database, so a restart just carries on.
    this.firstCycle = this.pollNow().catch((err: Error) => this.log.error(`poll cycle failed: ${err.message}`));
  }

  /** Resolves when the poll cycle started by start() has finished. */
  settled(): Promise<unknown> {
    return this.firstCycle;
  }

  override async stop(): Promise<void> {
    const cycleDone = this.monitor?.shutdown();
    this.fetcher?.close();
    await cycleDone;
    await this.firstCycle;
  }

  override onConfigUpdate(config: Record<string, unknown>): void {
    const interval = this.settings.rules.pollIntervalMs;
    const settings = parseSettings(config);
    const old = this.fetcher;
    this.settings = settings;
    this.fetcher = new OwncastHttpClient(settings.http, this.resolver);
    // Requests already under way finish on the old connections; then those are closed.
    void this.monitor.reconfigure(settings, this.fetcher).then(() => old.close());
    if (settings.rules.pollIntervalMs !== interval && this.pollTask !== null) {
      this.pollTask.cancel();
      this.pollTask = this.scheduler.every(settings.rules.pollIntervalMs, () => this.pollNow(), { name: "poll" });
    }
  }

  /** One poll cycle now (the schedule calls it; tests and benches too). */
  async pollNow() {
    const done = this.metricCycle.startTimer();
    const stats = await this.monitor.pollAll();
    done();
    this.metricChecks.inc({ outcome: "ok" }, stats.queried - stats.failed);
    this.metricChecks.inc({ outcome: "failed" }, stats.failed);
    this.metricStreams.set(stats.streams);
    if (stats.notices > 0) this.metricNotices.inc({ source: "poll" }, stats.notices);
    this.log.debug(`poll cycle: ${JSON.stringify(stats)}`);
    return stats;
  }

  private configure(config: Record<string, unknown>): void {
    this.settings = parseSettings(config);
    this.fetcher = new OwncastHttpClient(this.settings.http, this.resolver);
    this.monitor = new StreamMonitor({
      store: this.store,
      fetcher: this.fetcher,
      settings: this.settings,
      log: this.log,
      now: this.clock,
      sink: {
        send: async (roomId, content) => {
          await this.client.sendEvent(roomId, "m.room.message", content);
        },
        upload: (data, contentType, filename) => this.client.uploadMedia(data, contentType, filename),
      },
    });
  }

  private async answer(ctx: MessageContext, message: FormattedMessage): Promise<void> {
    await this.client.sendEvent(ctx.roomId, "m.room.message", {
      ...messageContent(message, "m.notice"),
      "m.relates_to": { "m.in_reply_to": { event_id: ctx.evt.event_id } },
    });
  }

  /** Members below the configured power level (default: the room's state_default) may only read. */
  private async mayManage(ctx: MessageContext): Promise<boolean> {
    const levels = await this.client.getPowerLevels(ctx.roomId);
    const needed = this.settings.minPowerLevel ?? levels.state_default;
    const have = userPowerLevel(levels, ctx.sender);
    if (have >= needed) return true;
    await this.answer(ctx, replies.forbidden(needed, have));
    return false;
  }

  private async subscribe(ctx: MessageContext, input: string): Promise<void> {
    if (!(await this.mayManage(ctx))) return;
    const domain = domainify(input);
    if (domain === "") return this.answer(ctx, replies.invalidDomain(input));
    // Only the first subscription to a domain checks it is an Owncast instance, so a room can
    // still subscribe to (and later unsubscribe from) a stream that is known but down.
    let checked: StatusObservation | null = null;
    if (this.store.countSubscriptions(domain) === 0) {
      const status = await this.monitor.fetchStatus(domain);
      if (!status.ok) {
        this.log.info(`[${domain}] subscription refused: ${status.failure.detail}`);
        return this.answer(ctx, replies.notOwncast(domain, describeForRoom(status.failure)));
      }
      checked = status.value;
    }
    if (this.store.subscribe(domain, ctx.roomId) === "already-subscribed") return this.answer(ctx, replies.alreadySubscribed(domain));
    this.log.info(`[${domain}] subscription added for room ${ctx.roomId}`);
    // That check is the stream's silent first observation, recorded before the reply: a stream
    // going live once the room has read "Subscription added!" is announced (observed only after
    // the reply, it would count as already live when subscribing, and stay silent).
    if (checked !== null) await this.monitor.recordFirstObservation(domain, checked);
    await this.answer(ctx, replies.subscribed(domain));
  }

  private async unsubscribe(ctx: MessageContext, input: string): Promise<void> {
    if (!(await this.mayManage(ctx))) return;
    const domain = domainify(input);
    if (domain === "") return this.answer(ctx, replies.invalidDomain(input));
    if (!this.store.unsubscribe(domain, ctx.roomId)) return this.answer(ctx, replies.notSubscribed(domain));
    this.log.info(`[${domain}] subscription removed for room ${ctx.roomId}`);
    await this.answer(ctx, replies.unsubscribed(domain));
  }

  private listed(roomId: string, now: number): ListedStream[] {
    const base = this.settings.webhook.enabled ? this.webappUrl : null;
    return this.store.streamsOfRoom(roomId).map((record) => ({
      record,
      status: streamStatus(record, now, this.settings.rules),
      link: this.fetcher.linkOf(record.domain),
      webhookUrl: base === null ? null : `${base}/webhook/${record.webhookToken}`,
    }));
  }

  private async listSubscriptions(ctx: MessageContext): Promise<void> {
    const now = this.clock();
    await this.answer(ctx, formatSubscriptions(this.listed(ctx.roomId, now), now));
  }

  private async listLive(ctx: MessageContext): Promise<void> {
    const now = this.clock();
    await this.answer(ctx, formatLive(this.listed(ctx.roomId, now), now));
  }
}
