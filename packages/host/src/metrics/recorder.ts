// What the host's parts report to the metrics, as narrow interfaces with a do-nothing default:
// a part depends on these types only, never on prom-client, which is loaded only when metrics
// are switched on (metrics/host-metrics.ts).

/** Why a worker was restarted (workers/plugin-worker.ts's WorkerDeathCause). */
export type RestartCause = "crash" | "memory" | "heartbeat" | "load_timeout";

export interface BotMetricsRecorder {
  /** One `/sync` request of bot account `bot` finished (ok: the homeserver answered 2xx). */
  syncRequest(bot: string, seconds: number, ok: boolean): void;
  /** A live room event arrived (backlog excluded). */
  eventReceived(bot: string, eventType: string): void;
  messageSent(bot: string): void;
  sendFailed(bot: string): void;
  /** The homeserver answered 429 / M_LIMIT_EXCEEDED and the call waits to retry. */
  rateLimited(bot: string): void;
}

export interface InstanceMetricsRecorder {
  eventDispatched(instance: string): void;
}

export interface ApiMetricsRecorder {
  /** `route`: the route template (`/instance/:id`), never the raw path. */
  apiRequest(method: string, route: string, status: number, seconds: number): void;
}

export type MetricsRecorder = BotMetricsRecorder & InstanceMetricsRecorder & ApiMetricsRecorder;

const noop = (): void => undefined;

/** Metrics switched off: every report is dropped at the cost of a call. */
export const NO_METRICS: MetricsRecorder = {
  syncRequest: noop,
  eventReceived: noop,
  messageSent: noop,
  sendFailed: noop,
  rateLimited: noop,
  eventDispatched: noop,
  apiRequest: noop,
};

/** Known event types keep their name as a label; anything else a room member sends is "other". */
const EVENT_TYPE_LABELS = new Set([
  "m.room.message",
  "m.room.encrypted",
  "m.reaction",
  "m.room.redaction",
  "m.sticker",
  "m.room.member",
  "m.room.name",
  "m.room.topic",
  "m.room.power_levels",
  "m.room.create",
  "m.room.join_rules",
  "m.room.history_visibility",
  "m.room.guest_access",
  "m.room.avatar",
  "m.room.pinned_events",
  "m.room.tombstone",
  "m.room.server_acl",
  "m.room.encryption",
  "m.poll.start",
  "m.poll.response",
  "m.poll.end",
]);

/** A bounded label for an event type (room members choose types freely). */
export function eventTypeLabel(type: string): string {
  return EVENT_TYPE_LABELS.has(type) ? type : "other";
}
