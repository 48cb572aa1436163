// Builds `m.room.message` content for the SDK's send calls: the msgtype, optional HTML, the
// relation (rich reply or edit) and an explicit `m.mentions`, so no message can ping `@room`
// or a user unless the plugin asked for it.
import type { Mentions, SendOptions } from "@botyard/sdk";

export interface MessageBody {
  body: string;
  /** Already sanitised HTML, or undefined for plain text. */
  html?: string;
}

function mentionsOf(mentions: Mentions | undefined): Mentions {
  if (!mentions) return {};
  const out: Mentions = {};
  if (mentions.user_ids && mentions.user_ids.length > 0) out.user_ids = [...mentions.user_ids];
  if (mentions.room === true) out.room = true;
  return out;
}

function baseContent(msgtype: string, message: MessageBody, mentions: Mentions): Record<string, unknown> {
  const content: Record<string, unknown> = { msgtype, body: message.body };
  if (message.html !== undefined) {
    content.format = "org.matrix.custom.html";
    content.formatted_body = message.html;
  }
  content["m.mentions"] = mentions;
  return content;
}

/**
 * Content of one message. Replies use the relation alone (no quoted fallback, Matrix v1.13
 * dropped reply fallbacks); edits carry the new content in `m.new_content` and a `* `-prefixed
 * body for clients without edit support. An edit cannot change the reply relation, so
 * `replyTo` is ignored when `edits` is set.
 */
export function buildMessageContent(message: MessageBody, options: SendOptions): Record<string, unknown> {
  const msgtype = options.msgtype ?? "m.text";
  const mentions = mentionsOf(options.mentions);
  let content: Record<string, unknown>;
  if (options.edits) {
    const fallback: MessageBody = {
      body: `* ${message.body}`,
      html: message.html === undefined ? undefined : `* ${message.html}`,
    };
    content = baseContent(msgtype, fallback, mentions);
    content["m.new_content"] = baseContent(msgtype, message, mentions);
    content["m.relates_to"] = { rel_type: "m.replace", event_id: options.edits };
  } else {
    content = baseContent(msgtype, message, mentions);
    if (options.replyTo) content["m.relates_to"] = { "m.in_reply_to": { event_id: options.replyTo } };
  }
  if (options.extraContent) {
    for (const [key, value] of Object.entries(options.extraContent)) {
      // The relation and mentions are the host's guarantees; extra content cannot replace them.
      if (key === "m.mentions" || key === "m.relates_to" || key === "m.new_content") continue;
      content[key] = value;
    }
  }
  return content;
}

/** Raw content from `sendEvent`: copied, with `m.mentions: {}` added when absent. */
export function withDefaultMentions(content: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...content };
  if (copy["m.mentions"] === undefined || copy["m.mentions"] === null || typeof copy["m.mentions"] !== "object") {
    copy["m.mentions"] = {};
  }
  return copy;
}
