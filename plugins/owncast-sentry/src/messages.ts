// Every message the plugin sends, as a clean plain-text `body` and an HTML `formatted_body`
// built from escaped parts. Text from Owncast is never interpreted as markup in either.

import { escapeHtml, formatDuration, parseOwncastTime } from "./text.js";
import type { Notice, StreamRecord, StreamStatus } from "./rules.js";

export interface FormattedMessage {
  body: string;
  html: string;
}

/** One line of a message: plain and HTML side by side. */
class MessageBuilder {
  private readonly plain: string[] = [];
  private readonly html: string[] = [];
  line(plain: string, html: string = escapeHtml(plain)): this {
    this.plain.push(plain);
    this.html.push(html);
    return this;
  }
  blank(): this {
    return this.line("", "");
  }
  build(): FormattedMessage {
    return { body: this.plain.join("\n"), html: this.html.join("<br>") };
  }
}

const e = escapeHtml;
const link = (url: string) => `<a href="${e(url)}">${e(url)}</a>`;

export interface StreamNoticeInput {
  domain: string;
  name: string | null;
  title: string;
  tags: string[];
  link: string;
  /** mxc:// URI of an uploaded thumbnail. */
  thumbnailUri?: string | null;
}

/** The go-live and title-change notices, worded as the original's. */
export function formatStreamNotice(kind: "live" | "title", n: StreamNoticeInput): FormattedMessage {
  const name = n.name || n.domain;
  const m = new MessageBuilder();
  if (kind === "title") m.line(`📝 ${name} has changed its stream title!`, `📝 <b>${e(name)}</b> has changed its stream title!`);
  else m.line(`🎥 ${name} is now live!`, `🎥 <b>${e(name)}</b> is now live!`);
  if (n.title !== "") m.line(`Stream Title: ${n.title}`, `Stream Title: <i>${e(n.title)}</i>`);
  m.blank().line(`To tune in, visit: ${n.link}`, `To tune in, visit: ${link(n.link)}`);
  if (n.tags.length > 0) m.blank().line(n.tags.map((t) => `#${t}`).join(" "));
  const msg = m.build();
  if (n.thumbnailUri) msg.html += `<br><img src="${e(n.thumbnailUri)}" alt="${e(`${name} thumbnail`)}" height="180">`;
  return msg;
}

export function formatCleanupNotice(notice: Extract<Notice, { kind: "cleanup-warning" | "cleanup-removal" }>, domain: string): FormattedMessage {
  const m = new MessageBuilder();
  if (notice.kind === "cleanup-warning") {
    const left = notice.removeAfterMs - notice.unreachableForMs;
    m.line("⚠️ Warning: Subscription Cleanup Scheduled", "⚠️ <b>Warning: Subscription Cleanup Scheduled</b>").blank();
    m.line(
      `The Owncast instance at ${domain} has been unreachable for ${formatDuration(notice.unreachableForMs)}. ` +
        `If it remains unreachable for ${formatDuration(left, "more")} (${formatDuration(notice.removeAfterMs)} total), ` +
        `this subscription will be automatically removed.`,
    );
  } else {
    m.line("🗑️ Subscription Automatically Removed", "🗑️ <b>Subscription Automatically Removed</b>").blank();
    m.line(
      `The Owncast instance at ${domain} has been unreachable for ${formatDuration(notice.unreachableForMs)} ` +
        `and has been automatically removed from subscriptions in this room.`,
    ).blank();
    m.line(
      `If the instance comes online again and you want to resubscribe, run !subscribe ${domain}.`,
      `If the instance comes online again and you want to resubscribe, run <code>!subscribe ${e(domain)}</code>.`,
    );
  }
  return m.build();
}

/** Plain replies to commands (the domain is already reduced to `[a-z0-9.-]`). */
export const replies = {
  invalidDomain: (input: string): FormattedMessage =>
    text(`"${input.slice(0, 100)}" is not a domain or URL I can use. Try !subscribe stream.example.com`),
  /** The original's answer, then what the check of `domain` saw (`reason`: describeForRoom's words). */
  notOwncast: (domain: string, reason: string): FormattedMessage =>
    text(
      `The URL you supplied does not appear to be a valid Owncast instance. You may have specified an invalid domain, or the instance is offline. (Checked ${domain}: ${reason}.)`,
    ),
  alreadySubscribed: (domain: string) => text(`This room is already subscribed to notifications for ${domain}.`),
  subscribed: (domain: string) => text(`Subscription added! This room will receive notifications when ${domain} goes live.`),
  unsubscribed: (domain: string) => text(`Subscription removed! This room will no longer receive notifications for ${domain}.`),
  notSubscribed: (domain: string) => text(`This room is already not subscribed to notifications for ${domain}.`),
  forbidden: (needed: number, have: number) =>
    text(`You need power level ${needed} in this room to change its Owncast subscriptions (you have ${have}).`),
};

function text(plain: string): FormattedMessage {
  return { body: plain, html: e(plain) };
}

function durationSince(time: string | null, now: number): string | null {
  const t = parseOwncastTime(time);
  return t === null ? null : formatDuration(now - t);
}

export interface ListedStream {
  record: StreamRecord;
  status: StreamStatus;
  link: string;
  webhookUrl: string | null;
}

const NONE_SUBSCRIBED: FormattedMessage = {
  body: "This room is not subscribed to any Owncast instances.\n\nTo subscribe to an Owncast instance, use !subscribe <domain>",
  html: "This room is not subscribed to any Owncast instances.<br><br>To subscribe to an Owncast instance, use <code>!subscribe &lt;domain&gt;</code>",
};

/** `!subscriptions`: every subscription of the room with its status (and webhook URL). */
export function formatSubscriptions(streams: ListedStream[], now: number): FormattedMessage {
  if (streams.length === 0) return NONE_SUBSCRIBED;
  const plain = [`Subscriptions for this room (${streams.length}):`, ""];
  const html = [`<p><b>Subscriptions for this room (${streams.length}):</b></p><ul>`];
  for (const s of streams) {
    const details: [string, string][] = [];
    const r = s.record;
    if (s.status === "online" && r.title) details.push([`Title: ${r.title}`, `Title: ${e(r.title)}`]);
    let status: string;
    if (s.status === "online") {
      const d = durationSince(r.lastConnectTime, now);
      status = d ? `Online for ${d}` : "Online";
    } else if (s.status === "unknown") {
      status = "Unknown (instance unreachable)";
    } else {
      const d = durationSince(r.lastDisconnectTime, now);
      status = d ? `Offline for ${d}` : "Offline";
    }
    details.push([`Status: ${status}`, `Status: ${e(status)}`]);
    details.push([`Link: ${s.link}`, `Link: ${link(s.link)}`]);
    if (s.webhookUrl) details.push([`Webhook URL: ${s.webhookUrl}`, `Webhook URL: <code>${e(s.webhookUrl)}</code>`]);
    pushEntry(plain, html, r.name || r.domain, details);
  }
  plain.push("To unsubscribe from any of these Owncast instances, use !unsubscribe <domain>");
  html.push("</ul><p>To unsubscribe from any of these Owncast instances, use <code>!unsubscribe &lt;domain&gt;</code></p>");
  return { body: plain.join("\n"), html: html.join("") };
}

/** `!live`: only the subscriptions that are live now (`streams`: all of the room's). */
export function formatLive(streams: ListedStream[], now: number): FormattedMessage {
  if (streams.length === 0) return NONE_SUBSCRIBED;
  const live = streams.filter((s) => s.status === "online");
  if (live.length === 0) {
    return {
      body: "No subscribed Owncast instances are currently live.\n\nUse !subscriptions to list all subscriptions.",
      html: "No subscribed Owncast instances are currently live.<br><br>Use <code>!subscriptions</code> to list all subscriptions.",
    };
  }
  const plain = [`Live Owncast instances (${live.length}):`, ""];
  const html = [`<p><b>Live Owncast instances (${live.length}):</b></p><ul>`];
  for (const s of live) {
    const r = s.record;
    const details: [string, string][] = [];
    if (r.title) details.push([`Title: ${r.title}`, `Title: ${e(r.title)}`]);
    const d = durationSince(r.lastConnectTime, now);
    if (d) details.push([`Online for ${d}`, `Online for ${e(d)}`]);
    details.push([`Link: ${s.link}`, `Link: ${link(s.link)}`]);
    pushEntry(plain, html, r.name || r.domain, details);
  }
  html.push("</ul>");
  return { body: plain.join("\n").trimEnd(), html: html.join("") };
}

function pushEntry(plain: string[], html: string[], name: string, details: [string, string][]): void {
  plain.push(`- ${name}`, ...details.map(([p]) => `  - ${p}`), "");
  html.push(`<li><b>${e(name)}</b><ul>${details.map(([, h]) => `<li>${h}</li>`).join("")}</ul></li>`);
}
