// The SDK keeps every live event of every room in memory for as long as the client runs; a bot
// needs none of them once dispatched. A periodic sweep drops long live timelines.
import type { MatrixClient } from "matrix-js-sdk/lib/client.js";
import type { Logger } from "pino";
import { describeError } from "./call-errors.js";

/** What the SDK holds in memory for one client. */
export interface ClientMemoryStats {
  rooms: number;
  /** Events in the live timelines of all rooms. */
  timeline_events: number;
  /** Events in the longest live timeline. */
  largest_timeline: number;
}

/** Resets every live timeline longer than `keep` events. */
export function trimTimelines(client: MatrixClient, keep: number, log: Logger): void {
  for (const room of client.getRooms()) {
    try {
      if (room.getLiveTimeline().getEvents().length > keep) room.resetLiveTimeline(null, null);
    } catch (err) {
      log.debug({ err: describeError(err), room_id: room.roomId }, "could not trim the timeline");
    }
  }
}

export function memoryStatsOf(client: MatrixClient | null): ClientMemoryStats {
  const sizes = (client?.getRooms() ?? []).map((r) => r.getLiveTimeline().getEvents().length);
  return { rooms: sizes.length, timeline_events: sizes.reduce((a, b) => a + b, 0), largest_timeline: Math.max(0, ...sizes) };
}
