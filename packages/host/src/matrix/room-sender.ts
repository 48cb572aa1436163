// Sending into rooms: one send at a time per room in call order, one transaction id per send for
// all its retries (a retry after a lost answer is not a duplicate), and encryption through the
// SDK in rooms that have it on.
import type { MatrixClient } from "matrix-js-sdk/lib/client.js";
import type { TimelineEvents } from "matrix-js-sdk/lib/@types/event.js";
import { Method } from "matrix-js-sdk/lib/http-api/index.js";
import { EventStatus } from "matrix-js-sdk/lib/models/event.js";
import type { BotMetricsRecorder } from "../metrics/recorder.js";
import { KeyedSerialQueue } from "../keyed-serial-queue.js";
import { MatrixCallError } from "./call-errors.js";
import { withRetry, type RetryPolicy } from "./request-retry.js";

const enc = encodeURIComponent;

/** What a sender needs of its bot's connection. */
export interface SenderConnection {
  readonly userId: string;
  /** The running SDK client; throws MatrixCallError when there is none. */
  requireClient(): MatrixClient;
  /** End-to-end encryption is running for this bot. */
  encryptionOn(): boolean;
  retry(): RetryPolicy;
  metrics?: BotMetricsRecorder;
}

export class RoomSender {
  /** Sends to one room, one after another in call order. */
  private readonly queue = new KeyedSerialQueue();
  private txnCounter = 0;

  constructor(private readonly connection: SenderConnection) {}

  private nextTxnId(): string {
    return `botyard.${Date.now().toString(36)}.${(++this.txnCounter).toString(36)}`;
  }

  /** Sends one event, encrypted when the room has encryption on and the bot runs it. */
  async send(roomId: string, eventType: string, content: Record<string, unknown>): Promise<{ eventId: string }> {
    const { connection } = this;
    const client = connection.requireClient();
    return this.queue.run(roomId, async () => {
      // One transaction id for all retries, so a retried send after a dropped answer is not duplicated.
      const txnId = this.nextTxnId();
      const crypto = connection.encryptionOn() ? client.getCrypto() : undefined;
      const encrypted = crypto ? await crypto.isEncryptionEnabledInRoom(roomId) : false;
      const path = `/rooms/${enc(roomId)}/send/${enc(eventType)}/${enc(txnId)}`;
      try {
        const res = encrypted
          ? await this.sendEncrypted(client, roomId, eventType, content, txnId)
          : await withRetry(() => client.http.authedRequest<{ event_id: string }>(Method.Put, path, undefined, content), connection.retry());
        connection.metrics?.messageSent(connection.userId);
        return { eventId: res.event_id };
      } catch (err) {
        connection.metrics?.sendFailed(connection.userId);
        throw err;
      }
    });
  }

  /** Redacts an event, in the room's send order. */
  async redact(roomId: string, eventId: string, reason?: string): Promise<{ eventId: string }> {
    const client = this.connection.requireClient();
    return this.queue.run(roomId, async () => {
      const path = `/rooms/${enc(roomId)}/redact/${enc(eventId)}/${enc(this.nextTxnId())}`;
      const body = reason ? { reason } : {};
      const res = await withRetry(() => client.http.authedRequest<{ event_id: string }>(Method.Put, path, undefined, body), this.connection.retry());
      return { eventId: res.event_id };
    });
  }

  /**
   * Sends through the SDK, which encrypts for the room's devices. A retry resends the SDK's
   * local event, so it keeps the transaction id.
   */
  private async sendEncrypted(
    client: MatrixClient,
    roomId: string,
    eventType: string,
    content: Record<string, unknown>,
    txnId: string,
  ): Promise<{ event_id: string }> {
    const room = client.getRoom(roomId);
    if (!room) throw new MatrixCallError(`Cannot send into ${roomId}: the bot is not in that room`, "M_FORBIDDEN", null);
    const localId = `~${roomId}:${txnId}`;
    return withRetry(() => {
      const pending = room.findEventById(localId);
      if (pending?.status === EventStatus.NOT_SENT) return client.resendEvent(pending, room);
      // The SDK types only the event types it knows; plugins may send any.
      return client.sendEvent(roomId, eventType as keyof TimelineEvents, content as TimelineEvents[keyof TimelineEvents], txnId);
    }, this.connection.retry());
  }
}
