// The contract between a plugin bundle and the host's worker runtime.
//
// A plugin bundle carries its own copy of @botyard/sdk (the CLI bundles it with esbuild), so the
// host never resolves packages for a plugin. The host's worker runtime and the bundled SDK meet
// only through the types in this file: the runtime builds a `PluginContext` for each instance and
// drives the instance through the `PluginRuntime` methods. Change it only additively and bump
// CONTRACT_VERSION on any breaking change, so old bundles can be refused with a clear message.

export const CONTRACT_VERSION = 1;

/** A Matrix room event as the client-server API delivers it (what `getEffectiveEvent()` gives). */
export interface MatrixEvent {
  event_id: string;
  room_id: string;
  sender: string;
  type: string;
  origin_server_ts: number;
  content: Record<string, unknown>;
  state_key?: string;
  redacts?: string;
  unsigned?: Record<string, unknown>;
}

/** `m.mentions` (MSC3952). The host always sends one; `{}` pings nobody. */
export interface Mentions {
  user_ids?: string[];
  room?: boolean;
}

export type MessageType = "m.text" | "m.notice" | "m.emote";

/** Options shared by every "send a message" call. */
export interface SendOptions {
  msgtype?: MessageType;
  /** Event id to answer with a rich reply (`m.relates_to.m.in_reply_to`). */
  replyTo?: string;
  /** Event id to replace (`m.relates_to.rel_type = m.replace`, `m.new_content`). */
  edits?: string;
  /** Who this message may ping. Defaults to nobody. `room: true` is never honoured for text
   * that came from outside the plugin author's hand; the host passes it through as given. */
  mentions?: Mentions;
  /** Extra keys merged into the content (e.g. `info`, custom namespaced fields). */
  extraContent?: Record<string, unknown>;
}

/**
 * Every Matrix call a plugin can make. The host executes it with the instance's client
 * (`primary_user`). Params and results are structured-clone safe.
 */
export interface ClientMethods {
  /** Plain text body; no formatting. */
  sendText: { params: { roomId: string; text: string } & SendOptions; result: { eventId: string } };
  /** Markdown rendered by the host to sanitised HTML `formatted_body`; `body` is the plain text. */
  sendMarkdown: { params: { roomId: string; markdown: string } & SendOptions; result: { eventId: string } };
  /** Caller-built HTML (sanitised again by the host) plus its plain-text `body`. */
  sendHtml: { params: { roomId: string; html: string; text: string } & SendOptions; result: { eventId: string } };
  /** Raw event content of any message-like event type; the host adds `m.mentions: {}` if absent. */
  sendEvent: { params: { roomId: string; eventType: string; content: Record<string, unknown> }; result: { eventId: string } };
  react: { params: { roomId: string; eventId: string; key: string }; result: { eventId: string } };
  redact: { params: { roomId: string; eventId: string; reason?: string }; result: { eventId: string } };
  /**
   * Upload bytes to the media repository. With `roomId` of an encrypted room (and encryption on),
   * the host encrypts them first and answers `file` as well, which the event carries instead of `url`.
   */
  uploadMedia: { params: { data: Uint8Array; contentType: string; filename?: string; roomId?: string }; result: UploadResult };
  /**
   * Upload a file from disk: the host streams it to the media repository, so neither the plugin
   * nor the host holds the whole file in memory. `path` is absolute and names a regular file
   * that stays in place until the call resolves.
   */
  uploadMediaFile: { params: { path: string; contentType: string; filename?: string; roomId?: string }; result: UploadResult };
  /** One state event's content, or null when it does not exist. */
  getStateEvent: { params: { roomId: string; eventType: string; stateKey?: string }; result: Record<string, unknown> | null };
  /** `m.room.power_levels` content (Matrix defaults filled in when the event is missing). */
  getPowerLevels: { params: { roomId: string }; result: PowerLevels };
  getJoinedRooms: { params: Record<string, never>; result: { roomIds: string[] } };
  join: { params: { roomIdOrAlias: string }; result: { roomId: string } };
  leave: { params: { roomId: string }; result: Record<string, never> };
}

/**
 * An encrypted attachment (the Matrix spec's EncryptedFile): AES-256-CTR key, iv and the SHA-256
 * of the uploaded ciphertext, all needed to decrypt what `url` holds.
 */
export interface EncryptedFile {
  url: string;
  key: { kty: "oct"; key_ops: string[]; alg: "A256CTR"; k: string; ext: true };
  iv: string;
  hashes: { sha256: string };
  v: "v2";
}

export interface UploadResult {
  contentUri: string;
  /** Present when the media was encrypted for an encrypted room: send it as `file`, not `url`. */
  file?: EncryptedFile;
}

/**
 * Where uploaded media is, as event content: `{ url }`, or `{ file }` in an encrypted room. Spread
 * it into an `m.image`/`m.file`/... content (for a thumbnail: `thumbnail_url` / `thumbnail_file`).
 */
export type MediaSource = { url: string; file?: undefined } | { file: EncryptedFile; url?: undefined };

export type ClientMethod = keyof ClientMethods;
export type ClientParams<M extends ClientMethod> = ClientMethods[M]["params"];
export type ClientResult<M extends ClientMethod> = ClientMethods[M]["result"];
/**
 * One call as it crosses to the host: a method with its own params. Without a type argument it
 * is the union of every method's call, so checking `method` narrows `params`.
 */
export type ClientCall<M extends ClientMethod = ClientMethod> = { [K in M]: { method: K; params: ClientParams<K> } }[M];

export interface PowerLevels {
  users: Record<string, number>;
  users_default: number;
  events: Record<string, number>;
  events_default: number;
  state_default: number;
  ban: number;
  kick: number;
  redact: number;
  invite: number;
}

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal";

/** Logger handed to an instance; records reach the host's log stream tagged with the instance id. */
export interface PluginLogger {
  trace(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/**
 * The subset of better-sqlite3's `Database` a plugin may rely on. The host opens the real
 * better-sqlite3 database (WAL) on the instance's own file inside the worker.
 */
export interface SqlDatabase {
  prepare(sql: string): SqlStatement;
  exec(sql: string): unknown;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  readonly inTransaction: boolean;
}

export interface SqlStatement {
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
}

/** An HTTP request for one of the instance's web endpoints (path relative to its base). */
export interface WebRequest {
  method: string;
  /** Path below `<plugin_base_path><instance id>`, always starting with "/". */
  path: string;
  /** Raw query string without "?". */
  query: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface WebResponse {
  status: number;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
}

export interface CommandHelp {
  /** Command name without the "!" prefix. */
  name: string;
  aliases: string[];
  /** One-line usage, e.g. "!subscribe <url>". */
  usage: string;
  help: string;
}

/** What kind of plugin code ran: an event handler, a command, a passive handler, a web endpoint, a scheduled task. */
export type HandlerKind = "event" | "command" | "passive" | "web" | "task";

/** A metric a plugin defines; the host names it `botyard_plugin_<name>` and adds an `instance_id` label. */
export interface PluginMetricSpec {
  type: "counter" | "gauge" | "histogram";
  /** `^[a-z_][a-z0-9_]*$`, without a prefix. */
  name: string;
  help: string;
  labelNames: string[];
  /** Histogram bucket bounds (seconds or whatever unit the name says). */
  buckets?: number[];
}

/**
 * The host's metrics, as the SDK reports to them (present only when the operator switched metrics
 * on; absent on older hosts). Plugins use `this.metrics`, never this directly.
 */
export interface MetricsRuntime {
  /** One run of plugin code finished; `name`: the command, task, event type or "web". */
  handled(kind: HandlerKind, name: string, seconds: number, failed: boolean): void;
  define(spec: PluginMetricSpec): void;
  record(name: string, op: "inc" | "set" | "observe", value: number, labels: Record<string, string>): void;
}

/** What the host's worker runtime hands each instance. One object per instance. */
export interface PluginContext {
  readonly contractVersion: number;
  readonly instanceId: string;
  /** The bot's Matrix user id (the instance's `primary_user`). */
  readonly userId: string;
  /** Instance config: its YAML merged over the bundle's base-config.yaml, validated. */
  readonly config: Record<string, unknown>;
  /** The instance's own database, or null when the bundle's `database` is false. */
  readonly db: SqlDatabase | null;
  readonly log: PluginLogger;
  /** Public base URL of the instance's web endpoints (no trailing slash), or null without `webapp`. */
  readonly webappUrl: string | null;
  /** Calls the Matrix client of this instance through the host. */
  callClient<M extends ClientMethod>(method: M, params: ClientParams<M>): Promise<ClientResult<M>>;
  /** Reads a file from the plugin bundle (e.g. an `extra_files` entry). */
  readBundleFile(path: string): Promise<Uint8Array>;
  /** The host's metrics; absent when they are off (or on a host without them). */
  readonly metrics?: MetricsRuntime;
}

/**
 * What the runtime calls on an instance. The SDK's `Plugin` base class implements it; a bundle's
 * `main_class` must be a class whose instances have these members.
 */
export interface PluginRuntime {
  /** Called once after construction. Resolves when the plugin's own `start()` has finished. */
  __botyardStart(ctx: PluginContext): Promise<void>;
  /** Stops handlers and scheduled tasks, then the plugin's own `stop()`. */
  __botyardStop(): Promise<void>;
  /** A room event for this instance (never the bot's own, never the backlog from before start). */
  __botyardEvent(event: MatrixEvent): Promise<void>;
  /** One web request; 404 when no endpoint matches. */
  __botyardWeb(req: WebRequest): Promise<WebResponse>;
  /** The operator changed the config of the running instance. */
  __botyardConfigUpdate(config: Record<string, unknown>): Promise<void>;
  /** The registered commands, for the host-level `!help`. */
  __botyardCommands(): CommandHelp[];
}
