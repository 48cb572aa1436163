// The notification rules as pure functions of (stored stream, observation, now, settings) →
// (new stored stream, notices). Nothing here does I/O or reads a clock, so every rule is a unit
// test, and because every timer lives in the record, a restart changes nothing a room sees.

import type { RuleSettings } from "./settings.js";

/** Everything Owncast Sentry remembers about one stream (one `streams` row). */
export interface StreamRecord {
  domain: string;
  name: string | null;
  title: string | null;
  tags: string[];
  lastConnectTime: string | null;
  lastDisconnectTime: string | null;
  /** Failed attempts in a row (skipped polls do not count); for the log, the clock decides. */
  failureCount: number;
  /** False until the first successful observation after subscribing (which never notifies). */
  initialized: boolean;
  /** When the last go-live or title-change notice was sent (epoch ms). */
  lastNotifiedAt: number | null;
  /** When the stream was last seen going offline (epoch ms). */
  lastOfflineAt: number | null;
  /** When the current run of failures started (epoch ms); null while reachable. */
  firstFailureAt: number | null;
  lastAttemptAt: number | null;
  cleanupWarned: boolean;
  /** A title change was held back by the notification interval; announce it when it ends. */
  titlePending: boolean;
  /** The title in the last go-live or title-change notice. */
  announcedTitle: string | null;
  webhookToken: string;
}

export type StreamStatus = "online" | "offline" | "unknown";

export type Notice =
  | { kind: "live"; title: string }
  | { kind: "title"; title: string }
  | { kind: "cleanup-warning"; unreachableForMs: number; removeAfterMs: number }
  | { kind: "cleanup-removal"; unreachableForMs: number };

/** The stream's state as another source (poll or webhook) reports it. */
export interface Observation {
  lastConnectTime: string | null;
  lastDisconnectTime: string | null;
  title: string;
}

export interface Outcome {
  record: StreamRecord;
  notices: Notice[];
  /** Name and tags should be fetched again (`/api/config`) before the notices are sent. */
  refreshServerInfo: boolean;
  /** The stream's subscriptions and record must be deleted (after the notices are sent). */
  remove: boolean;
  /** Human-readable reason, for the log. */
  log: string[];
}

/**
 * When the last successful check was, for a stream whose checks are failing. A reachable stream
 * is checked every poll interval, so that is one interval before the first failure; keeping the
 * exact time would cost a write per stream per cycle, which steady cycles avoid.
 */
export function lastSuccessBefore(firstFailureAt: number, rules: Pick<RuleSettings, "pollIntervalMs">): number {
  return firstFailureAt - rules.pollIntervalMs;
}

/**
 * Online / offline from `lastConnectTime` like the original; Unknown once no check has succeeded
 * for `unknownAfterMs`, read on the clock (not from the checks), so the backoff spacing them out
 * does not delay it.
 */
export function streamStatus(record: StreamRecord, now: number, rules: Pick<RuleSettings, "unknownAfterMs" | "pollIntervalMs">): StreamStatus {
  if (record.firstFailureAt !== null && now - lastSuccessBefore(record.firstFailureAt, rules) >= rules.unknownAfterMs) return "unknown";
  return record.lastConnectTime !== null ? "online" : "offline";
}

/** The original's progressive backoff (`should_query_stream`), counted in real time. */
export function backoffInterval(record: StreamRecord, now: number, rules: RuleSettings): number {
  if (record.firstFailureAt === null) return 0;
  const failingFor = now - record.firstFailureAt;
  let interval = rules.backoff[0]!.intervalMs;
  for (const step of rules.backoff) if (failingFor >= step.afterMs) interval = step.intervalMs;
  return interval;
}

export function shouldQuery(record: StreamRecord, now: number, rules: RuleSettings): boolean {
  if (record.firstFailureAt === null || record.lastAttemptAt === null) return true;
  const interval = backoffInterval(record, now, rules);
  return now - record.lastAttemptAt + Math.min(rules.scheduleSlackMs, interval / 2) >= interval;
}

function outcome(record: StreamRecord): Outcome {
  return { record, notices: [], refreshServerInfo: false, remove: false, log: [] };
}

/** A successful observation: the rules of the original, with its timers kept in the record. */
export function observe(previous: StreamRecord, obs: Observation, now: number, rules: RuleSettings): Outcome {
  const out = outcome({
    ...previous,
    failureCount: 0,
    firstFailureAt: null,
    lastAttemptAt: null,
    cleanupWarned: false,
  });
  const rec = out.record;
  const wasLive = previous.lastConnectTime !== null;
  const isLive = obs.lastConnectTime !== null;

  if (!previous.initialized) {
    // First observation after subscribing: remember, never notify (the stream may have been live for hours).
    Object.assign(rec, { initialized: true, title: obs.title, lastConnectTime: obs.lastConnectTime, lastDisconnectTime: obs.lastDisconnectTime });
    if (isLive) rec.announcedTitle = obs.title;
    out.refreshServerInfo = true;
    out.log.push(isLive ? "first observation: live, not notifying" : "first observation: offline");
    return out;
  }

  let wanted: Notice | null = null;
  if (isLive && !wasLive) {
    out.refreshServerInfo = true;
    const sinceOffline = previous.lastOfflineAt === null ? Infinity : now - previous.lastOfflineAt;
    if (sinceOffline < rules.offlineGraceMs) {
      if (previous.title !== obs.title) wanted = { kind: "title", title: obs.title };
      else out.log.push(`back within the grace period (${Math.round(sinceOffline / 1000)} s) with the same title, not notifying`);
    } else {
      wanted = { kind: "live", title: obs.title };
    }
  } else if (isLive && wasLive) {
    if (previous.title !== obs.title) {
      out.refreshServerInfo = true;
      // The original's rule: if the stream went offline after its last notice (e.g. that go-live
      // was rate-limited), a "title changed" notice would confuse; announce it as going live.
      const offlineAfterNotice = (previous.lastOfflineAt ?? 0) > (previous.lastNotifiedAt ?? 0);
      wanted = { kind: offlineAfterNotice ? "live" : "title", title: obs.title };
    } else if (previous.titlePending && windowOpen(previous, now, rules)) {
      // Decided beyond the original: a title change held back by the interval is announced
      // when the interval ends, if the title still differs from the last one announced.
      if (obs.title !== previous.announcedTitle) {
        out.refreshServerInfo = true;
        const offlineAfterNotice = (previous.lastOfflineAt ?? 0) > (previous.lastNotifiedAt ?? 0);
        wanted = { kind: offlineAfterNotice ? "live" : "title", title: obs.title };
      } else {
        rec.titlePending = false;
      }
    }
  } else if (!isLive && wasLive) {
    rec.lastOfflineAt = now;
    rec.titlePending = false;
    out.log.push("stream went offline");
  }

  // The original stored the title only when something changed; an offline title edit is kept
  // back so that coming back within the grace period with it counts as a title change.
  if (isLive || wasLive) rec.title = obs.title;
  rec.lastConnectTime = obs.lastConnectTime;
  rec.lastDisconnectTime = obs.lastDisconnectTime;

  if (wanted !== null) {
    if (windowOpen(previous, now, rules)) {
      out.notices.push(wanted);
      rec.lastNotifiedAt = now;
      rec.announcedTitle = obs.title;
      rec.titlePending = false;
    } else {
      rec.titlePending = true;
      out.log.push(`${wanted.kind} notice held back: last notice ${Math.round((now - (previous.lastNotifiedAt ?? 0)) / 1000)} s ago`);
    }
  }
  return out;
}

function windowOpen(record: StreamRecord, now: number, rules: RuleSettings): boolean {
  return record.lastNotifiedAt === null || now - record.lastNotifiedAt >= rules.minNotificationIntervalMs;
}

/** A failed attempt: count it, start the failure clock, then the cleanup rules. */
export function observeFailure(previous: StreamRecord, now: number, rules: RuleSettings): Outcome {
  const record: StreamRecord = {
    ...previous,
    failureCount: previous.failureCount + 1,
    firstFailureAt: previous.firstFailureAt ?? now,
    lastAttemptAt: now,
  };
  return checkCleanup(record, now, rules);
}

/** A poll skipped by backoff: nothing counted, but time passes for the cleanup rules. */
export function observeSkip(previous: StreamRecord, now: number, rules: RuleSettings): Outcome {
  return checkCleanup({ ...previous }, now, rules);
}

function checkCleanup(record: StreamRecord, now: number, rules: RuleSettings): Outcome {
  const out = outcome(record);
  if (record.firstFailureAt === null) return out;
  const failingFor = now - record.firstFailureAt;
  if (failingFor >= rules.cleanupRemoveAfterMs) {
    out.notices.push({ kind: "cleanup-removal", unreachableForMs: rules.cleanupRemoveAfterMs });
    out.remove = true;
    out.log.push("unreachable past the removal threshold: removing");
  } else if (failingFor >= rules.cleanupWarningAfterMs && !record.cleanupWarned) {
    // Warn once when crossing the threshold (the original needed the counter to hit it exactly).
    out.notices.push({
      kind: "cleanup-warning",
      unreachableForMs: rules.cleanupWarningAfterMs,
      removeAfterMs: rules.cleanupRemoveAfterMs,
    });
    record.cleanupWarned = true;
    out.log.push("unreachable past the warning threshold: warning rooms");
  }
  return out;
}
