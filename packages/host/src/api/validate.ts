// Checks of ids and body fields at the edge, with errors that name the field.
import { ApiError } from "../errors.js";
import type { ClientRow } from "../store/types.js";
import { invalidInstanceId } from "../instances/index.js";
import { NOTIFICATION_LEVELS, parseNotificationLevel, type NotificationLevel } from "../logging/notification-level.js";

/**
 * An instance id from a URL or body, lower-cased as maubot does and checked with the
 * supervisor's rule (it names a file and a URL segment: no slashes, control characters or
 * leading dot).
 */
export function instanceId(raw: string): string {
  const id = raw.toLowerCase();
  const problem = invalidInstanceId(id);
  if (problem) throw new ApiError("invalid_id", `Instance id ${JSON.stringify(raw)} ${problem}`);
  return id;
}

/**
 * An instance id from a URL: an instance that exists is found by its id even when it breaks a
 * rule added later (older versions took 255-character ids), so it can still be renamed or
 * deleted; any other id must be valid.
 */
export function knownOrValidInstanceId(raw: string, exists: (id: string) => boolean): string {
  const id = raw.toLowerCase();
  return exists(id) ? id : instanceId(raw);
}

/** A Matrix user id, without characters that could leave a path segment. */
const MXID = /^@[^\s:/\\]+:[^\s/\\]+$/;

export function isMxid(value: string): boolean {
  return MXID.test(value) && value.length <= 255;
}

/** The stored client row of a route's `{id}`, or client_not_found. */
export function clientRowOf(store: { getClient(id: string): ClientRow | undefined }, id: string): ClientRow {
  const row = isMxid(id) ? store.getClient(id) : undefined;
  if (!row) throw new ApiError("client_not_found", `Client ${id} not found`);
  return row;
}

type Kind = "string" | "boolean";
type Of<K extends Kind> = K extends "string" ? string : boolean;

/** `body[key]` when present and of the right type, undefined when absent; else body_not_json naming the field. */
export function optional<K extends Kind>(body: Record<string, unknown>, key: string, kind: K): Of<K> | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== kind) throw new ApiError("body_not_json", `Field "${key}" must be a ${kind}`);
  return value as Of<K>;
}

/** An instance's error_notification_level from a body field (any case; WARNING means WARN). */
export function notificationLevel(raw: string | undefined): NotificationLevel | undefined {
  if (raw === undefined) return undefined;
  const level = parseNotificationLevel(raw);
  if (!level) throw new ApiError("body_not_json", `Field "error_notification_level" must be one of ${NOTIFICATION_LEVELS.join(", ")}`);
  return level;
}
