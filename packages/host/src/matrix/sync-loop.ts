// Starting a bot's /sync: the filter (what a bot never needs), the SDK listeners (sync health,
// timeline, invites) and the SDK's sync loop itself.
import { randomUUID } from "node:crypto";
import { ClientEvent, type MatrixClient } from "matrix-js-sdk/lib/client.js";
import { Filter } from "matrix-js-sdk/lib/filter.js";
import { Method } from "matrix-js-sdk/lib/http-api/index.js";
import { RoomEvent, type Room } from "matrix-js-sdk/lib/models/room.js";
import { SyncState } from "matrix-js-sdk/lib/sync.js";
import type { Logger } from "pino";
import type { ClientRow } from "../store/types.js";
import { describeError } from "./call-errors.js";
import { withRetry, type RetryPolicy } from "./request-retry.js";
import type { TimelineDispatch } from "./timeline-dispatch.js";

const enc = encodeURIComponent;

export interface SyncLoopOptions {
  log: Logger;
  /** The account's row as it is now (autojoin changes without a restart). */
  row: () => ClientRow;
  /** Timeline events per room in each sync response. */
  timelineLimit: number;
  /** How long an idle /sync waits at the homeserver (long-poll.ts). */
  longPollMs: number;
  timeline: TimelineDispatch;
  /** After each change of the SDK's sync state; `ok` when the last /sync succeeded. */
  onSyncState: (ok: boolean, state: SyncState, prev: SyncState | null) => void;
  /** The client still runs (a failed join after a stop is not worth a warning). */
  isRunning: () => boolean;
  retry: () => RetryPolicy;
}

function syncFilter(row: ClientRow, timelineLimit: number): Filter {
  const filter = new Filter(row.id);
  filter.setDefinition({
    room: {
      timeline: { limit: timelineLimit },
      state: { lazy_load_members: true },
      // Typing notifications and receipts: nothing a bot plugin receives.
      ephemeral: { not_types: ["*"] },
      // Synapse caches /sync answers by request (2 minutes by default), so a client restarted
      // within that time would get the previous start's initial sync and then every event
      // since as "live": the backlog would be replayed. A filter unique to this start (an
      // event type that never exists) makes the request new.
      account_data: { not_types: [`org.botyard.start.${randomUUID()}`] },
    },
    presence: row.online ? {} : { not_types: ["*"] },
  });
  return filter;
}

/** Listens to the client and starts its sync loop (in the background). */
export function startSyncLoop(client: MatrixClient, options: SyncLoopOptions): void {
  const { log } = options;
  const row = options.row();
  client.on(ClientEvent.Sync, (state: SyncState, prev: SyncState | null) => {
    options.onSyncState(state === SyncState.Prepared || state === SyncState.Syncing || state === SyncState.Catchup, state, prev);
  });
  client.on(RoomEvent.Timeline, (event, room, toStart, removed, data) => options.timeline.onTimeline(client, event, room, toStart, removed, data));
  client.on(RoomEvent.MyMembership, (room: Room, membership: string) => {
    if (membership !== "invite" || !options.row().autojoin) return;
    const roomId = room.roomId;
    log.info({ room_id: roomId }, "invited, joining");
    withRetry(() => client.http.authedRequest(Method.Post, `/rooms/${enc(roomId)}/join`, undefined, {}), options.retry()).catch((err: unknown) => {
      if (options.isRunning()) log.warn({ room_id: roomId, err: describeError(err) }, "could not join after an invite");
    });
  });
  void client.startClient({
    initialSyncLimit: 1,
    lazyLoadMembers: true,
    disablePresence: !row.online,
    filter: syncFilter(row, options.timelineLimit),
    threadSupport: false,
    pollTimeout: options.longPollMs,
  });
  // Bots do not take part in calls: never start the MatrixRTC session manager (it keeps a
  // session object per room and logs through the SDK's global logger). startClient registers
  // its starter synchronously, before its first await, so it can be removed right here.
  const rtcStarter = (client as unknown as { startMatrixRTC?: (...args: unknown[]) => void }).startMatrixRTC;
  if (rtcStarter) client.off(ClientEvent.Sync, rtcStarter as never);
}
