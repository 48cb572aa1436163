// Posts ERROR and CRITICAL log records to the configured admin room as one-line notices
// (config `admin_room: {room_id, client}`): an instance that failed, a bot account whose token
// was rejected, a plugin that did not load. An instance's records go from its own
// error_notification_level on (DEBUG..CRITICAL, default ERROR) instead. Rate-limited, one line each, the instance or client
// named, never a secret or a stack trace: the room may have members who are not operators.
import type { AdminNotice, ClientCaller } from "../ports.js";
import type { LogEntry } from "./log-ring.js";
import { scrubSecretText } from "./secret-patterns.js";

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
  /** The level number (Python's: 10 DEBUG .. 50 CRITICAL) from which records of an instance are
   * posted: its error_notification_level. Undefined (unknown instance, or not given): ERROR. */
  instanceLevel?: (instanceId: string) => number | undefined;
  /** Where a failed post is reported (at warn level, so it never feeds back into the room). */
  onPostError?: (err: unknown) => void;
}

const MAX_MESSAGE = 300;
const INFO_LEVELNO = 20;
const WARNING_LEVELNO = 30;
const ERROR_LEVELNO = 40;
const CRITICAL_LEVELNO = 50;

/** One line, no stack frames, bounded length. */
function oneLine(text: string): string {
  const first = text.split(/\r?\n/).find((l) => l.trim() && !/^\s+at\s/.test(l)) ?? "";
  const clean = scrubSecretText(first.trim()).replace(/\s+/g, " ");
  return clean.length > MAX_MESSAGE ? `${clean.slice(0, MAX_MESSAGE - 1)}…` : clean;
}

/** The instance a record is about, if any. */
export function instanceOf(entry: LogEntry): string | null {
  if (typeof entry.instance_id === "string" && entry.instance_id) return entry.instance_id;
  if (entry.name.startsWith("instance.")) return entry.name.slice("instance.".length);
  return null;
}

function subjectOf(entry: LogEntry): string {
  const instance = instanceOf(entry);
  if (instance !== null) return `instance ${instance}`;
  if (typeof entry.client_id === "string" && entry.client_id) return `client ${entry.client_id}`;
  if (entry.name.startsWith("client.")) return `client ${entry.name.slice("client.".length)}`;
  return entry.name || "botyard";
}

function levelOf(levelno: number): AdminNotice["level"] {
  if (levelno >= CRITICAL_LEVELNO) return "critical";
  if (levelno >= ERROR_LEVELNO) return "error";
  if (levelno >= WARNING_LEVELNO) return "warning";
  if (levelno >= INFO_LEVELNO) return "info";
  return "debug";
}

/** The notice a record at or above `minLevelno` (default ERROR) becomes, or null for anything less severe. */
export function adminNoticeFrom(entry: LogEntry, minLevelno = ERROR_LEVELNO): AdminNotice | null {
  if (typeof entry.levelno !== "number" || entry.levelno < minLevelno) return null;
  const message = oneLine(entry.msg || (typeof entry.exc_info === "string" ? entry.exc_info : "") || "error");
  return { level: levelOf(entry.levelno), subject: subjectOf(entry), message };
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
    const instance = instanceOf(entry);
    const minLevelno = (instance !== null ? this.options.instanceLevel?.(instance) : undefined) ?? ERROR_LEVELNO;
    const notice = adminNoticeFrom(entry, minLevelno);
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
