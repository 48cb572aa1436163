// From the SDK's timeline to plugins: which events are dispatched (live, not the bot's own, not
// the start's backlog, not local echoes), encrypted ones only once decrypted, and the plain
// client-server shape plugins receive.
import type { MatrixClient } from "matrix-js-sdk/lib/client.js";
import { EventType } from "matrix-js-sdk/lib/@types/event.js";
import { MatrixEventEvent, type MatrixEvent as SdkEvent } from "matrix-js-sdk/lib/models/event.js";
import type { IRoomTimelineData } from "matrix-js-sdk/lib/models/event-timeline-set.js";
import type { Room } from "matrix-js-sdk/lib/models/room.js";
import type { Logger } from "pino";
import type { MatrixEvent } from "@botyard/sdk";
import type { BotMetricsRecorder } from "../metrics/recorder.js";
import { describeError } from "./call-errors.js";

export interface TimelineDispatchOptions {
  userId: string;
  log: Logger;
  metrics?: BotMetricsRecorder;
  /** A room event that passed the filters. */
  onEvent: (event: MatrixEvent) => void;
  /** `client` is still the bot's running client (an event decrypted late may outlive it). */
  isCurrent: (client: MatrixClient) => boolean;
  /** End-to-end encryption is running for this bot. */
  encryptionOn: () => boolean;
}

/** The event as plugins get it, or null when it lacks an id or sender. */
export function pluginEvent(event: SdkEvent, room: Room): MatrixEvent | null {
  const raw = event.getEffectiveEvent();
  const out: MatrixEvent = {
    event_id: event.getId() ?? "",
    room_id: event.getRoomId() ?? room.roomId,
    sender: event.getSender() ?? "",
    type: event.getType(),
    origin_server_ts: event.getTs(),
    content: raw.content ?? {},
  };
  const stateKey = event.getStateKey();
  if (stateKey !== undefined) out.state_key = stateKey;
  const redacts = event.event.redacts ?? (event.getType() === EventType.RoomRedaction ? raw.content?.redacts : undefined);
  if (typeof redacts === "string") out.redacts = redacts;
  if (raw.unsigned) out.unsigned = { ...raw.unsigned };
  if (!out.event_id || !out.sender) return null;
  return out;
}

export class TimelineDispatch {
  constructor(private readonly options: TimelineDispatchOptions) {}

  /** The SDK's RoomEvent.Timeline listener. */
  onTimeline(client: MatrixClient, event: SdkEvent, room: Room | undefined, toStart: boolean | undefined, removed: boolean, data: IRoomTimelineData): void {
    // The initial sync's timeline arrives as live events: that backlog is never dispatched.
    if (toStart || removed || !room || !client.isInitialSyncComplete()) return;
    if (data.liveEvent === false) return;
    this.options.metrics?.eventReceived(this.options.userId, event.getType());
    if (event.getSender() === this.options.userId) return;
    if (event.status !== null) return; // local echo
    if (event.isEncrypted() && this.options.encryptionOn()) {
      void this.dispatchWhenDecrypted(client, event, room);
      return;
    }
    this.dispatch(event, room);
  }

  /**
   * An encrypted event reaches plugins decrypted, or not at all: one that cannot be decrypted
   * is logged, and dispatched once if its keys arrive later (the SDK retries then).
   */
  private async dispatchWhenDecrypted(client: MatrixClient, event: SdkEvent, room: Room): Promise<void> {
    const { log, isCurrent } = this.options;
    await client.decryptEventIfNeeded(event);
    if (!isCurrent(client)) return;
    if (!event.isDecryptionFailure()) {
      this.dispatch(event, room);
      return;
    }
    log.warn(
      { event_id: event.getId(), room_id: room.roomId, sender: event.getSender(), reason: event.decryptionFailureReason },
      "could not decrypt an event; it is dispatched if its keys arrive later",
    );
    const onDecrypted = (ev: SdkEvent): void => {
      if (ev.isDecryptionFailure() || ev.isBeingDecrypted()) return;
      event.off(MatrixEventEvent.Decrypted, onDecrypted);
      if (!isCurrent(client)) return;
      log.info({ event_id: event.getId(), room_id: room.roomId }, "decrypted a late event");
      this.dispatch(event, room);
    };
    event.on(MatrixEventEvent.Decrypted, onDecrypted);
  }

  private dispatch(event: SdkEvent, room: Room): void {
    const out = pluginEvent(event, room);
    if (!out) return;
    try {
      this.options.onEvent(out);
    } catch (err) {
      this.options.log.warn({ err: describeError(err), event_id: out.event_id }, "event dispatch threw");
    }
  }
}
