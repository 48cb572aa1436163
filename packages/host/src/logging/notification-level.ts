// An instance's error_notification_level (the seeds' per-instance setting): its log records at or
// above this level are posted to the admin room. Kept by the host for every instance, whatever
// its plugin, as an instance field (API and host db) rather than a key of the plugin's config:
// it is the operator's policy about the host's own log, it must work with plugins whose config
// schema forbids unknown keys, and changing it must not restart or reconfigure the plugin.

export const NOTIFICATION_LEVELS = ["DEBUG", "INFO", "WARN", "ERROR", "CRITICAL"] as const;
export type NotificationLevel = (typeof NOTIFICATION_LEVELS)[number];
export const DEFAULT_NOTIFICATION_LEVEL: NotificationLevel = "ERROR";

/** Python's level numbers, as log records carry them (LogEntry.levelno). */
const LEVELNO: Record<NotificationLevel, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40, CRITICAL: 50 };

export function levelnoOf(level: NotificationLevel): number {
  return LEVELNO[level];
}

/** The level a client wrote, in any case; "WARNING" (Python's and maubot's name) is WARN. */
export function parseNotificationLevel(raw: string): NotificationLevel | null {
  const upper = raw.trim().toUpperCase();
  const name = upper === "WARNING" ? "WARN" : upper;
  return (NOTIFICATION_LEVELS as readonly string[]).includes(name) ? (name as NotificationLevel) : null;
}
