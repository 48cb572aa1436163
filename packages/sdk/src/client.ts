// Typed facade over `PluginContext.callClient`: the Matrix calls a plugin makes, each one an RPC
// to the host, which runs it with the instance's bot account. Every message it sends carries an
// explicit `m.mentions` (default `{}`), so text taken from outside (an echo, a stream title)
// never pings anyone unless the plugin author says so.

import type {
  ClientMethod,
  ClientParams,
  ClientResult,
  MatrixEvent,
  MediaSource,
  Mentions,
  MessageType,
  PowerLevels,
  SendOptions,
  UploadResult,
} from "./contract.js";

export type CallClient = <M extends ClientMethod>(method: M, params: ClientParams<M>) => Promise<ClientResult<M>>;

/** Options of the send helpers; `mentions` defaults to `{}` (nobody). */
export type MessageOptions = SendOptions;

/** Options of `reply` and `respond`. */
export interface ReplyOptions extends Omit<SendOptions, "replyTo"> {
  /** Render the text as Markdown (default true). False sends it as plain text. */
  markdown?: boolean;
}

const NOBODY: Mentions = Object.freeze({}) as Mentions;

function mediaSource(res: UploadResult): MediaSource {
  return res.file ? { file: res.file } : { url: res.contentUri };
}

function withMentions<T extends SendOptions>(options: T | undefined): T & { mentions: Mentions } {
  return { ...(options ?? ({} as T)), mentions: copyMentions(options?.mentions ?? NOBODY) };
}

function copyMentions(m: Mentions): Mentions {
  const out: Mentions = {};
  if (m.user_ids !== undefined) out.user_ids = [...m.user_ids];
  if (m.room !== undefined) out.room = m.room;
  return out;
}

export class PluginClient {
  readonly #call: CallClient;

  constructor(call: CallClient) {
    this.#call = call;
  }

  /** Plain-text message (`m.text` unless `msgtype` says otherwise). Resolves to the event id. */
  async sendText(roomId: string, text: string, options?: MessageOptions): Promise<string> {
    return (await this.#call("sendText", { ...withMentions(options), roomId, text })).eventId;
  }

  /** Plain-text `m.notice`, the usual msgtype for bot output. */
  async sendNotice(roomId: string, text: string, options?: Omit<MessageOptions, "msgtype">): Promise<string> {
    return this.sendText(roomId, text, { ...options, msgtype: "m.notice" });
  }

  /** Markdown, rendered by the host to sanitised HTML. */
  async sendMarkdown(roomId: string, markdown: string, options?: MessageOptions): Promise<string> {
    return (await this.#call("sendMarkdown", { ...withMentions(options), roomId, markdown })).eventId;
  }

  /** HTML (sanitised again by the host) with its plain-text fallback. */
  async sendHtml(roomId: string, html: string, text: string, options?: MessageOptions): Promise<string> {
    return (await this.#call("sendHtml", { ...withMentions(options), roomId, html, text })).eventId;
  }

  /** Any message-like event; `m.mentions: {}` is added to the content when it has none. */
  async sendEvent(roomId: string, eventType: string, content: Record<string, unknown>): Promise<string> {
    const withM = "m.mentions" in content ? content : { ...content, "m.mentions": {} };
    return (await this.#call("sendEvent", { roomId, eventType, content: withM })).eventId;
  }

  /**
   * Rich reply to `event` (Markdown unless `markdown: false`, `m.notice` unless `msgtype` says
   * otherwise). Pings nobody by default; pass `mentions: { user_ids: [event.sender] }` to ping.
   */
  async reply(event: MatrixEvent, text: string, options?: ReplyOptions): Promise<string> {
    const { markdown = true, ...rest } = options ?? {};
    const send: SendOptions = { msgtype: "m.notice", ...rest, replyTo: event.event_id };
    return markdown ? this.sendMarkdown(event.room_id, text, send) : this.sendText(event.room_id, text, send);
  }

  /** Replaces the content of one of the bot's own messages (`m.replace`). */
  async edit(roomId: string, eventId: string, text: string, options?: ReplyOptions): Promise<string> {
    const { markdown = true, ...rest } = options ?? {};
    const send: SendOptions = { msgtype: "m.notice", ...rest, edits: eventId };
    return markdown ? this.sendMarkdown(roomId, text, send) : this.sendText(roomId, text, send);
  }

  async react(roomId: string, eventId: string, key: string): Promise<string> {
    return (await this.#call("react", { roomId, eventId, key })).eventId;
  }

  async redact(roomId: string, eventId: string, reason?: string): Promise<string> {
    const params: ClientParams<"redact"> = { roomId, eventId };
    if (reason !== undefined) params.reason = reason;
    return (await this.#call("redact", params)).eventId;
  }

  /** Uploads bytes to the media repository; resolves to the `mxc://` URI. */
  async uploadMedia(data: Uint8Array, contentType: string, filename?: string): Promise<string> {
    const params: ClientParams<"uploadMedia"> = { data, contentType };
    if (filename !== undefined) params.filename = filename;
    return (await this.#call("uploadMedia", params)).contentUri;
  }

  /**
   * Uploads a file from disk without reading it into memory: the host streams it (for large
   * media such as videos). `path` must be absolute; keep the file until this resolves.
   */
  async uploadMediaFile(path: string, contentType: string, filename?: string): Promise<string> {
    const params: ClientParams<"uploadMediaFile"> = { path, contentType };
    if (filename !== undefined) params.filename = filename;
    return (await this.#call("uploadMediaFile", params)).contentUri;
  }

  /**
   * Uploads bytes for a message into `roomId`: encrypted when the room is (and the host's
   * encryption is on). Spread the answer into the content (`{ url }` or `{ file }`).
   */
  async uploadMediaForRoom(roomId: string, data: Uint8Array, contentType: string, filename?: string): Promise<MediaSource> {
    const params: ClientParams<"uploadMedia"> = { data, contentType, roomId };
    if (filename !== undefined) params.filename = filename;
    return mediaSource(await this.#call("uploadMedia", params));
  }

  /** uploadMediaFile for a message into `roomId`: encrypted when the room is, as uploadMediaForRoom. */
  async uploadMediaFileForRoom(roomId: string, path: string, contentType: string, filename?: string): Promise<MediaSource> {
    const params: ClientParams<"uploadMediaFile"> = { path, contentType, roomId };
    if (filename !== undefined) params.filename = filename;
    return mediaSource(await this.#call("uploadMediaFile", params));
  }

  /** A state event's content, or null when the room has none. */
  async getStateEvent(roomId: string, eventType: string, stateKey = ""): Promise<Record<string, unknown> | null> {
    return this.#call("getStateEvent", { roomId, eventType, stateKey });
  }

  async getPowerLevels(roomId: string): Promise<PowerLevels> {
    return this.#call("getPowerLevels", { roomId });
  }

  async getJoinedRooms(): Promise<string[]> {
    return (await this.#call("getJoinedRooms", {})).roomIds;
  }

  /** Joins a room by id or alias; resolves to the room id. */
  async join(roomIdOrAlias: string): Promise<string> {
    return (await this.#call("join", { roomIdOrAlias })).roomId;
  }

  async leave(roomId: string): Promise<void> {
    await this.#call("leave", { roomId });
  }
}

/** The power level `userId` has in a room, by the Matrix rules. */
export function userPowerLevel(levels: PowerLevels, userId: string): number {
  return levels.users[userId] ?? levels.users_default;
}

export type { MessageType };
