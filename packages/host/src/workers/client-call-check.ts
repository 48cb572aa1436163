// The check of a plugin's Matrix call where it arrives from the worker. Plugin code runs in the
// worker and can post anything on its port, so the method name must be one of the contract's and
// every param has the type the contract gives it before the host acts on it. After this, the
// call is a typed `ClientCall` all the way to the room call that runs it.
import type { ClientCall, ClientMethod, ClientParams, Mentions, MessageType, SendOptions } from "@botyard/sdk";

/** A plugin's call that does not fit the contract; the plugin gets the message. */
export class ClientCallError extends Error {
  override readonly name = "ClientCallError";
}

/** Matrix ids and event types are at most 255 bytes (client-server API, "Identifier grammar"). */
const MAX_ID_LENGTH = 255;
const MESSAGE_TYPES: readonly MessageType[] = ["m.text", "m.notice", "m.emote"];

type Fields = Record<string, unknown>;

function isRecord(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

/** Reads the params of one method, naming the method and field in every refusal. */
class ParamReader {
  constructor(
    private readonly method: ClientMethod,
    private readonly fields: Fields,
  ) {}

  private refuse(key: string, what: string): never {
    throw new ClientCallError(`${this.method}: "${key}" must be ${what}`);
  }

  string(key: string): string {
    const value = this.fields[key];
    if (typeof value !== "string") this.refuse(key, "a string");
    return value;
  }

  id(key: string): string {
    const value = this.string(key);
    if (value.length === 0 || value.length > MAX_ID_LENGTH) this.refuse(key, `a non-empty string of at most ${MAX_ID_LENGTH} characters`);
    return value;
  }

  /** An optional field: absent, undefined or null all mean "not given". */
  private given(key: string): boolean {
    return this.fields[key] !== undefined && this.fields[key] !== null;
  }

  optionalString(key: string): string | undefined {
    return this.given(key) ? this.string(key) : undefined;
  }

  record(key: string): Fields {
    const value = this.fields[key];
    if (!isRecord(value)) this.refuse(key, "an object");
    return value;
  }

  optionalRecord(key: string): Fields | undefined {
    return this.given(key) ? this.record(key) : undefined;
  }

  bytes(key: string): Uint8Array {
    const value = this.fields[key];
    if (!(value instanceof Uint8Array)) this.refuse(key, "a Uint8Array");
    return value;
  }

  messageType(key: string): MessageType | undefined {
    if (!this.given(key)) return undefined;
    const value = this.fields[key];
    const known = MESSAGE_TYPES.find((t) => t === value);
    if (!known) this.refuse(key, `one of ${MESSAGE_TYPES.join(", ")}`);
    return known;
  }

  mentions(key: string): Mentions | undefined {
    if (!this.given(key)) return undefined;
    const value = this.fields[key];
    if (!isRecord(value)) this.refuse(key, "an object");
    const out: Mentions = {};
    if (value.user_ids !== undefined && value.user_ids !== null) {
      if (!Array.isArray(value.user_ids) || !value.user_ids.every((u): u is string => typeof u === "string")) this.refuse(`${key}.user_ids`, "a list of strings");
      out.user_ids = value.user_ids;
    }
    if (value.room !== undefined && value.room !== null) {
      if (typeof value.room !== "boolean") this.refuse(`${key}.room`, "a boolean");
      out.room = value.room;
    }
    return out;
  }

  /** The options every send call takes; absent ones stay absent. */
  sendOptions(): SendOptions {
    const options: SendOptions = {};
    const msgtype = this.messageType("msgtype");
    const replyTo = this.optionalString("replyTo");
    const edits = this.optionalString("edits");
    const mentions = this.mentions("mentions");
    const extraContent = this.optionalRecord("extraContent");
    if (msgtype !== undefined) options.msgtype = msgtype;
    if (replyTo !== undefined) options.replyTo = replyTo;
    if (edits !== undefined) options.edits = edits;
    if (mentions !== undefined) options.mentions = mentions;
    if (extraContent !== undefined) options.extraContent = extraContent;
    return options;
  }

  /** What both upload calls take; `filename` and `roomId` only when given. */
  upload(): { contentType: string; filename?: string; roomId?: string } {
    const upload: { contentType: string; filename?: string; roomId?: string } = { contentType: this.string("contentType") };
    const filename = this.optionalString("filename");
    const roomId = this.optionalString("roomId");
    if (filename !== undefined) upload.filename = filename;
    if (roomId !== undefined) upload.roomId = roomId;
    return upload;
  }
}

/** How each method's params are read: one entry per method of the contract, so none is missed. */
const PARAMS: { [M in ClientMethod]: (read: ParamReader) => ClientParams<M> } = {
  sendText: (r) => ({ ...r.sendOptions(), roomId: r.id("roomId"), text: r.string("text") }),
  sendMarkdown: (r) => ({ ...r.sendOptions(), roomId: r.id("roomId"), markdown: r.string("markdown") }),
  sendHtml: (r) => ({ ...r.sendOptions(), roomId: r.id("roomId"), html: r.string("html"), text: r.string("text") }),
  sendEvent: (r) => ({ roomId: r.id("roomId"), eventType: r.id("eventType"), content: r.record("content") }),
  react: (r) => ({ roomId: r.id("roomId"), eventId: r.id("eventId"), key: r.string("key") }),
  redact: (r) => {
    const params: ClientParams<"redact"> = { roomId: r.id("roomId"), eventId: r.id("eventId") };
    const reason = r.optionalString("reason");
    if (reason !== undefined) params.reason = reason;
    return params;
  },
  uploadMedia: (r) => ({ ...r.upload(), data: r.bytes("data") }),
  uploadMediaFile: (r) => ({ ...r.upload(), path: r.string("path") }),
  getStateEvent: (r) => {
    const params: ClientParams<"getStateEvent"> = { roomId: r.id("roomId"), eventType: r.id("eventType") };
    const stateKey = r.optionalString("stateKey");
    if (stateKey !== undefined) params.stateKey = stateKey;
    return params;
  },
  getPowerLevels: (r) => ({ roomId: r.id("roomId") }),
  getJoinedRooms: () => ({}),
  join: (r) => ({ roomIdOrAlias: r.id("roomIdOrAlias") }),
  leave: (r) => ({ roomId: r.id("roomId") }),
};

function isClientMethod(name: unknown): name is ClientMethod {
  return typeof name === "string" && Object.hasOwn(PARAMS, name);
}

function callOf<M extends ClientMethod>(method: M, fields: Fields): ClientCall<M> {
  return { method, params: PARAMS[method](new ParamReader(method, fields)) };
}

/** The call a worker asked for, checked against the contract; throws ClientCallError when it does not fit. */
export function checkClientCall(method: unknown, params: unknown): ClientCall {
  if (!isClientMethod(method)) throw new ClientCallError(`Unknown client method ${String(method).slice(0, 100)}`);
  if (!isRecord(params)) throw new ClientCallError(`${method}: the params must be an object`);
  return callOf(method, params);
}
