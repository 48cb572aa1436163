// What a command or passive handler gets: the event plus answers bound to its room.

import type { PluginClient, ReplyOptions } from "./client.js";
import type { MatrixEvent } from "./contract.js";

export class MessageContext {
  readonly evt: MatrixEvent;
  readonly roomId: string;
  readonly sender: string;
  /** Message body without a rich-reply fallback. */
  readonly body: string;
  readonly client: PluginClient;

  constructor(client: PluginClient, evt: MatrixEvent, body: string) {
    this.client = client;
    this.evt = evt;
    this.roomId = evt.room_id;
    this.sender = evt.sender;
    this.body = body;
  }

  /** Rich reply to this message (Markdown `m.notice` by default). Resolves to the event id. */
  reply(text: string, options?: ReplyOptions): Promise<string> {
    return this.client.reply(this.evt, text, options);
  }

  /** Message in the same room, not a reply (Markdown `m.notice` by default). */
  respond(text: string, options?: ReplyOptions): Promise<string> {
    const { markdown = true, ...rest } = options ?? {};
    const send = { msgtype: "m.notice" as const, ...rest };
    return markdown ? this.client.sendMarkdown(this.roomId, text, send) : this.client.sendText(this.roomId, text, send);
  }

  /** Reacts to this message with `key` (an emoji, usually). */
  react(key: string): Promise<string> {
    return this.client.react(this.roomId, this.evt.event_id, key);
  }

  /** Redacts this message (needs the power to redact others' events). */
  redact(reason?: string): Promise<string> {
    return this.client.redact(this.roomId, this.evt.event_id, reason);
  }
}

/** The `body` of an `m.room.message`, or null for anything else. */
export function messageBody(evt: MatrixEvent): string | null {
  if (evt.type !== "m.room.message") return null;
  const body = evt.content["body"];
  return typeof body === "string" ? body : null;
}

export function messageType(evt: MatrixEvent): string | null {
  const msgtype = evt.content["msgtype"];
  return typeof msgtype === "string" ? msgtype : null;
}

/** True for an edit (`m.replace`): its body is the "* new text" fallback, not a fresh message. */
export function isEdit(evt: MatrixEvent): boolean {
  const relates = evt.content["m.relates_to"];
  return typeof relates === "object" && relates !== null && (relates as Record<string, unknown>)["rel_type"] === "m.replace";
}

/**
 * Removes a rich-reply fallback (`> <@user> quoted` lines, then a blank line) from the start of a
 * body, so `!command` typed as a reply is still a command.
 */
export function stripReplyFallback(body: string): string {
  if (!body.startsWith("> ")) return body;
  const lines = body.split("\n");
  let i = 0;
  while (i < lines.length && lines[i]!.startsWith(">")) i++;
  if (i < lines.length && lines[i] === "") i++;
  return lines.slice(i).join("\n");
}
