// The base class of every botyard plugin: maubot's `Plugin`, in TypeScript, without decorators.
// The host's worker runtime constructs the bundle's class with no arguments and drives it only
// through the `PluginRuntime` members (`__botyard*`); plugin authors override the optional hooks
// and use `this.client`, `this.config`, `this.db`, `this.log`, `this.scheduler`, `this.http`,
// `this.web` and the registration methods.

import { PluginClient } from "./client.js";
import { CommandRouter, type CommandSpec } from "./commands.js";
import type { Arg } from "./arguments.js";
import {
  CONTRACT_VERSION,
  type CommandHelp,
  type HandlerKind,
  type MatrixEvent,
  type PluginContext,
  type PluginLogger,
  type PluginRuntime,
  type SqlDatabase,
  type WebRequest,
  type WebResponse,
} from "./contract.js";
import { HttpClient } from "./http.js";
import { MessageContext, isEdit, messageBody, messageType, stripReplyFallback } from "./message-context.js";
import { runMigrations, type Migration, type UpgradeTable } from "./migrations.js";
import { PluginMetrics } from "./metrics.js";
import { Scheduler, errorFields, realTimers } from "./scheduler.js";
import { WebRouter, jsonResponse, type HttpMethod, type WebHandler } from "./web.js";

export type EventHandler = (evt: MatrixEvent, ctx: MessageContext) => unknown;
export type PassiveHandler = (ctx: MessageContext, match: RegExpExecArray) => unknown;

export interface PassiveOptions {
  /** msgtypes it looks at (default `["m.text"]`). */
  msgtypes?: readonly string[];
}

/** What `this.web` offers a plugin: route registration. */
export interface WebRoutes {
  add(method: HttpMethod, path: string, handler: WebHandler): void;
  get(path: string, handler: WebHandler): void;
  post(path: string, handler: WebHandler): void;
  put(path: string, handler: WebHandler): void;
  patch(path: string, handler: WebHandler): void;
  delete(path: string, handler: WebHandler): void;
}

type Lifecycle = "new" | "starting" | "running" | "stopping" | "stopped";

interface Passive {
  pattern: RegExp;
  handler: PassiveHandler;
  msgtypes: readonly string[];
}

function isReply(evt: MatrixEvent): boolean {
  const relates = evt.content["m.relates_to"];
  return typeof relates === "object" && relates !== null && "m.in_reply_to" in relates;
}

export class Plugin<C extends object = Record<string, unknown>> implements PluginRuntime {
  #state: Lifecycle = "new";
  #ctx: PluginContext | null = null;
  #config: C | null = null;
  #client: PluginClient | null = null;
  #scheduler: Scheduler | null = null;
  #http: HttpClient | null = null;
  /**
   * Your own counters, gauges and histograms, exported by the host as `botyard_plugin_<name>`
   * with the instance as a label (no-ops while the operator has metrics off). Define them once,
   * e.g. as fields: `readonly polls = this.metrics.counter("polls_total", "Polls made")`.
   */
  readonly metrics = new PluginMetrics(() => this.#ctx?.metrics);
  readonly #commands = new CommandRouter(this);
  readonly #web = new WebRouter();
  #passives: Passive[] = [];
  #handlers: { type: string; handler: EventHandler }[] = [];

  // ---- Hooks a plugin may define (all optional) ----

  /**
   * Upgrade steps of the instance database, applied in order before `setup()`/`start()`
   * (needs `database: true` in maubot.yaml). Return a `new UpgradeTable().register(...)` chain.
   */
  dbMigrations?(): UpgradeTable | readonly Migration[];
  /** Register commands, handlers and web routes here (or in `start()`). */
  setup?(): void | Promise<void>;
  /** Called once per start, after `setup()`. A throw fails the instance start. */
  start?(): void | Promise<void>;
  /** Called on stop, after handlers, web routes and scheduled tasks are cleared. */
  stop?(): void | Promise<void>;
  /** The operator changed the config; `this.config` already holds the new one. */
  onConfigUpdate?(config: C, previous: C): void | Promise<void>;

  // ---- What a plugin uses ----

  /** The instance id. */
  get id(): string {
    return this.#context().instanceId;
  }

  /** The bot's Matrix user id. */
  get userId(): string {
    return this.#context().userId;
  }

  /** Public base URL of this instance's web endpoints (no trailing slash), or null without `webapp: true`. */
  get webappUrl(): string | null {
    return this.#context().webappUrl;
  }

  get log(): PluginLogger {
    return this.#context().log;
  }

  get client(): PluginClient {
    this.#context();
    return this.#client!;
  }

  /** The instance config: its YAML merged over base-config.yaml, validated by the host. */
  get config(): C {
    this.#context();
    return this.#config!;
  }

  /** The instance database (better-sqlite3). Throws when maubot.yaml has no `database: true`. */
  get db(): SqlDatabase {
    const db = this.#context().db;
    if (!db) throw new Error("this plugin has no database: set `database: true` in maubot.yaml");
    return db;
  }

  get scheduler(): Scheduler {
    this.#context();
    return this.#scheduler!;
  }

  get http(): HttpClient {
    this.#context();
    return this.#http!;
  }

  get web(): WebRoutes {
    this.#assertRegistering("web routes");
    return this.#web;
  }

  /** True between the end of a successful start and the beginning of stop. */
  get running(): boolean {
    return this.#state === "running";
  }

  /** A file of the plugin bundle (an `extra_files` entry, for instance). */
  readBundleFile(path: string): Promise<Uint8Array> {
    return this.#context().readBundleFile(path);
  }

  /** Registers a `!command`. Use arrow functions for handlers that need `this`, or method syntax (`this` is the plugin at run time). */
  command<const A extends readonly Arg[]>(spec: CommandSpec<A>): void {
    this.#assertRegistering("commands");
    this.#commands.add(spec as unknown as CommandSpec);
  }

  /** Runs `handler` for every message whose body matches `pattern` (first match, groups included). */
  passive(pattern: RegExp, handler: PassiveHandler, options: PassiveOptions = {}): void {
    this.#assertRegistering("passive handlers");
    const flags = pattern.flags.replace(/[gy]/g, "");
    this.#passives.push({ pattern: new RegExp(pattern.source, flags), handler, msgtypes: options.msgtypes ?? ["m.text"] });
  }

  /** Runs `handler` for every room event of `eventType` (`"*"`: every event). */
  on(eventType: string, handler: EventHandler): void {
    this.#assertRegistering("event handlers");
    this.#handlers.push({ type: eventType, handler });
  }

  // ---- PluginRuntime: called by the host's worker runtime only ----

  async __botyardStart(ctx: PluginContext): Promise<void> {
    if (this.#state !== "new" && this.#state !== "stopped") throw new Error(`cannot start: instance is ${this.#state}`);
    if (ctx.contractVersion !== CONTRACT_VERSION) {
      throw new Error(`plugin was built with @botyard/sdk contract ${CONTRACT_VERSION}, the host speaks ${ctx.contractVersion}: rebuild it`);
    }
    this.#ctx = ctx;
    this.#config = ctx.config as C;
    this.#client = new PluginClient((method, params) => ctx.callClient(method, params));
    this.#scheduler = new Scheduler(ctx.log, realTimers, (name, seconds, failed) => ctx.metrics?.handled("task", name, seconds, failed));
    this.#http = new HttpClient({ userAgent: `botyard-plugin (instance ${ctx.instanceId})` });
    this.#state = "starting";
    try {
      const migrations = this.dbMigrations?.();
      if (migrations) {
        if (!ctx.db) throw new Error("dbMigrations() needs `database: true` in maubot.yaml");
        const result = runMigrations(ctx.db, migrations, (version, description) =>
          ctx.log.info(`database upgraded to version ${version}: ${description}`),
        );
        if (result.applied.length === 0) ctx.log.debug(`database at version ${result.to}`);
      }
      await this.setup?.();
      await this.start?.();
    } catch (err) {
      if (this.#state === "starting") {
        await this.#teardown();
        this.#state = "stopped";
      }
      throw err;
    }
    // The runtime may have stopped the instance while start() was still running (a start timeout).
    if (this.#state !== "starting") throw new Error("the instance was stopped before its start finished");
    this.#state = "running";
  }

  async __botyardStop(): Promise<void> {
    if (this.#state !== "running" && this.#state !== "starting") return;
    this.#state = "stopping";
    try {
      await this.#teardown(async () => {
        await this.stop?.();
      });
    } finally {
      this.#state = "stopped";
    }
  }

  async __botyardEvent(evt: MatrixEvent): Promise<void> {
    if (this.#state !== "running") return;
    const ctx = this.#ctx!;
    // The host filters the bot's own events too; this keeps a plugin from answering itself.
    if (evt.sender === ctx.userId) return;
    const rawBody = messageBody(evt);
    const body = rawBody !== null && isReply(evt) ? stripReplyFallback(rawBody) : rawBody;
    const message = new MessageContext(this.#client!, evt, body ?? "");
    const work: Promise<void>[] = [];

    for (const { type, handler } of this.#handlers) {
      if (type === "*" || type === evt.type) {
        work.push(this.#guard("event", type, `event handler for ${type}`, evt, () => handler.call(this, evt, message)));
      }
    }
    if (body !== null && !isEdit(evt)) {
      const msgtype = messageType(evt);
      const outcome = this.#commands.resolve(body, msgtype);
      if (outcome.kind === "run") {
        work.push(this.#guard("command", outcome.command.replace(/^!/, ""), `command ${outcome.command}`, evt, () => outcome.run(message)));
      } else if (outcome.kind === "usage") {
        work.push(this.#guard(null, outcome.command, `usage of ${outcome.command}`, evt, () => message.reply(outcome.text)));
      }
      for (const passive of this.#passives) {
        if (!passive.msgtypes.includes(msgtype ?? "")) continue;
        const match = passive.pattern.exec(body);
        if (match) work.push(this.#guard("passive", passive.pattern.source.slice(0, 64), `passive handler ${passive.pattern}`, evt, () => passive.handler.call(this, message, match)));
      }
    }
    await Promise.all(work);
  }

  async __botyardWeb(req: WebRequest): Promise<WebResponse> {
    if (this.#state !== "running") return jsonResponse({ error: "Instance is not running" }, 503);
    const started = performance.now();
    const response = await this.#web.handle(req, (err, route) => this.#ctx!.log.error(`web handler ${route} failed`, errorFields(err)));
    this.#ctx?.metrics?.handled("web", "web", (performance.now() - started) / 1000, response.status >= 500);
    return response;
  }

  async __botyardConfigUpdate(config: Record<string, unknown>): Promise<void> {
    const previous = this.#config as C;
    this.#config = config as C;
    if (this.#state === "running") await this.onConfigUpdate?.(config as C, previous);
  }

  __botyardCommands(): CommandHelp[] {
    return this.#commands.help();
  }

  // ---- internals ----

  #context(): PluginContext {
    if (!this.#ctx) throw new Error("the plugin is not started yet: use this.client, this.config, ... from setup()/start() or later");
    return this.#ctx;
  }

  #assertRegistering(what: string): void {
    if (this.#state !== "starting" && this.#state !== "running") {
      throw new Error(`register ${what} in setup() or start(), not before the instance starts`);
    }
  }

  /** Runs one handler, timed for the host's metrics (`kind` null: not counted); a throw is logged against the instance and goes no further. */
  async #guard(kind: HandlerKind | null, name: string, what: string, evt: MatrixEvent, fn: () => unknown): Promise<void> {
    const started = performance.now();
    let failed = false;
    try {
      await fn();
    } catch (err) {
      failed = true;
      this.#ctx?.log.error(`${what} failed`, { ...errorFields(err), event_id: evt.event_id, room_id: evt.room_id });
    } finally {
      if (kind !== null) this.#ctx?.metrics?.handled(kind, name, (performance.now() - started) / 1000, failed);
    }
  }

  /** Clears everything a start set up, running `beforeAbort` between clearing and cancelling HTTP. */
  async #teardown(beforeAbort?: () => Promise<void>): Promise<void> {
    const stopping = this.#scheduler?.stop();
    this.#commands.clear();
    this.#passives = [];
    this.#handlers = [];
    this.#web.clear();
    try {
      await beforeAbort?.();
    } finally {
      this.#http?.abortAll();
      await stopping;
    }
  }
}
