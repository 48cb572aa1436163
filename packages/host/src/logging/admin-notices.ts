// Posts ERROR and CRITICAL log records to the configured admin room as one-line notices
// (config `admin_room: {room_id, client}`): an instance that failed, a bot account whose token
// was rejected, a plugin that did not load. Rate-limited, one line each, the instance or client
// named, never a secret or a stack trace: the room may have members who are not operators.
import type { AdminNotice, ClientCaller } from "../ports.js";
import type { LogEntry } from "./log-ring.js";

export interface AdminNoticeTarget {
  room_id: string;
  /** User id of the bot account that posts. */
  client: string;
}

export interface AdminNoticeOptions {
  ring: { subscribe(fn: (entry: LogEntry) => void): () => void };
  caller: ClientCaller;
  target: AdminNoticeTarget;
  /** Most notices per window (default 5 per minute); the rest are counted and reported later. */
  maxPerWindow?: number;
  windowMs?: number;
  /** The same notice is not repeated within this time (default 10 minutes). */
  repeatAfterMs?: number;
  /** One notice per subject within this time (default 1 minute): one failure often logs several
   * ERROR records (the plugin's own, then the supervisor's state change); the room hears once. */
  subjectCooldownMs?: number;
  /** Where a failed post is reported (at warn level, so it never feeds back into the room). */
  onPostError?: (err: unknown) => void;
}

const MAX_MESSAGE = 300;
const ERROR_LEVELNO = 40;
const CRITICAL_LEVELNO = 50;

/** Cuts secrets that might have slipped into a message: tokens, bearer headers, passwords in URLs. */
export function scrubSecrets(text: string): string {
  return text
    .replace(/\b(syt|syl|mct|mat|sya)_[A-Za-z0-9_=-]{8,}/g, "[Redacted]")
    .replace(/\bBearer\s+[A-Za-z0-9._~+/=-]+/gi, "Bearer [Redacted]")
    .replace(/([?&](?:access_token|token|secret|password)=)[^&\s]+/gi, "$1[Redacted]")
    .replace(/(\/\/[^/:@\s]+:)[^@/\s]+@/g, "$1[Redacted]@")
    .replace(/\b(eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+)/g, "[Redacted]");
}

/** One line, no stack frames, bounded length. */
function oneLine(text: string): string {
  const first = text.split(/\r?\n/).find((l) => l.trim() && !/^\s+at\s/.test(l)) ?? "";
  const clean = scrubSecrets(first.trim()).replace(/\s+/g, " ");
  return clean.length > MAX_MESSAGE ? `${clean.slice(0, MAX_MESSAGE - 1)}…` : clean;
}

function subjectOf(entry: LogEntry): string {
  if (typeof entry.instance_id === "string" && entry.instance_id) return `instance ${entry.instance_id}`;
  if (typeof entry.client_id === "string" && entry.client_id) return `client ${entry.client_id}`;
  if (entry.name.startsWith("instance.")) return `instance ${entry.name.slice("instance.".length)}`;
  if (entry.name.startsWith("client.")) return `client ${entry.name.slice("client.".length)}`;
  return entry.name || "botyard";
}

/** The notice an ERROR/CRITICAL record becomes, or null for anything less severe. */
export function adminNoticeFrom(entry: LogEntry): AdminNotice | null {
  if (typeof entry.levelno !== "number" || entry.levelno < ERROR_LEVELNO) return null;
  const message = oneLine(entry.msg || (typeof entry.exc_info === "string" ? entry.exc_info : "") || "error");
  return { level: entry.levelno >= CRITICAL_LEVELNO ? "critical" : "error", subject: subjectOf(entry), message };
}

export function formatAdminNotice(notice: AdminNotice, suppressed = 0): string {
  const more = suppressed > 0 ? ` (${suppressed} more notice${suppressed === 1 ? "" : "s"} suppressed)` : "";
  return `${notice.level.toUpperCase()} ${notice.subject}: ${notice.message}${more}`;
}

export class AdminNoticePoster {
  private unsubscribe: (() => void) | null = null;
  private sentAt: number[] = [];
  private readonly lastSeen = new Map<string, number>();
  private readonly lastBySubject = new Map<string, number>();
  private suppressed = 0;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly options: AdminNoticeOptions) {}

  start(): void {
    if (this.unsubscribe) return;
    this.unsubscribe = this.options.ring.subscribe((entry) => this.onEntry(entry));
  }

  /** Stops listening; resolves when notices already accepted have been posted (or failed). */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.chain;
  }

  private onEntry(entry: LogEntry): void {
    const notice = adminNoticeFrom(entry);
    if (!notice) return;
    const now = Date.now();
    const key = `${notice.subject}\n${notice.message}`;
    const repeatAfter = this.options.repeatAfterMs ?? 600_000;
    const seen = this.lastSeen.get(key);
    if (seen !== undefined && now - seen < repeatAfter) return;
    const subjectAt = this.lastBySubject.get(notice.subject);
    if (subjectAt !== undefined && now - subjectAt < (this.options.subjectCooldownMs ?? 60_000)) {
      this.suppressed++;
      return;
    }
    const windowMs = this.options.windowMs ?? 60_000;
    this.sentAt = this.sentAt.filter((t) => now - t < windowMs);
    if (this.sentAt.length >= (this.options.maxPerWindow ?? 5)) {
      this.suppressed++;
      return;
    }
    this.sentAt.push(now);
    this.lastSeen.set(key, now);
    this.lastBySubject.set(notice.subject, now);
    if (this.lastSeen.size > 1000) this.lastSeen.clear();
    if (this.lastBySubject.size > 1000) this.lastBySubject.clear();
    const text = formatAdminNotice(notice, this.suppressed);
    this.suppressed = 0;
    const { caller, target } = this.options;
    // One after another, so notices arrive in the order things happened.
    this.chain = this.chain.then(async () => {
      try {
        await caller.call(target.client, "sendText", { roomId: target.room_id, text, msgtype: "m.notice", mentions: {} });
      } catch (err) {
        this.options.onPostError?.(err);
      }
    });
  }
}
