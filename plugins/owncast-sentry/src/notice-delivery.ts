// Sends notices so that a room reads the same story every time: within a room, the notices of
// several streams go out one after another in the order the room subscribed to those streams
// (checks finish in whatever order the servers answer); rooms do not wait for each other.

import type { PluginLogger } from "@botyard/sdk";
import type { Subscriber } from "./store.js";

/** Where notices go: the Matrix side, behind the smallest interface the monitor needs. */
export interface NoticeSink {
  send(roomId: string, content: Record<string, unknown>): Promise<void>;
  /** Uploads an image and returns its mxc:// URI. */
  upload(data: Uint8Array, contentType: string, filename: string): Promise<string>;
}

/** One stream's notices, ready to send, and the rooms that get them. */
export interface StreamDelivery {
  domain: string;
  subscribers: Subscriber[];
  /** In sending order; `kind` names the notice in the log. */
  messages: { kind: string; content: Record<string, unknown> }[];
}

export async function sendInSubscriptionOrder(deliveries: StreamDelivery[], sink: NoticeSink, log: PluginLogger): Promise<void> {
  const perRoom = new Map<string, { order: number; delivery: StreamDelivery }[]>();
  for (const delivery of deliveries) {
    for (const { roomId, order } of delivery.subscribers) {
      let queue = perRoom.get(roomId);
      if (queue === undefined) perRoom.set(roomId, (queue = []));
      queue.push({ order, delivery });
    }
  }
  // Outcome per message, for one log line each: sent count and the failures.
  const sent = new Map<StreamDelivery["messages"][number], { ok: number; failed: number }>();
  for (const d of deliveries) for (const m of d.messages) sent.set(m, { ok: 0, failed: 0 });
  await Promise.all(
    [...perRoom].map(async ([roomId, queue]) => {
      queue.sort((a, b) => a.order - b.order);
      // One at a time: two sends in flight to one room may reach it in either order.
      for (const { delivery } of queue) {
        for (const message of delivery.messages) {
          const count = sent.get(message)!;
          try {
            await sink.send(roomId, message.content);
            count.ok++;
          } catch (err) {
            count.failed++;
            log.warn(`[${delivery.domain}] could not send a ${message.kind} notice to ${roomId}: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
      }
    }),
  );
  for (const d of deliveries) {
    for (const m of d.messages) {
      const count = sent.get(m)!;
      log.info(`[${d.domain}] ${m.kind} notice: ${count.ok} sent, ${count.failed} failed`);
    }
  }
}
