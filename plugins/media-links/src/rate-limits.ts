// The rate limits of one instance: a token bucket for the whole instance and one per room. A
// request goes only when both have a token; it then takes one from each.
import type { RateSettings } from "./settings.js";
import { TokenBucket } from "./token-bucket.js";

export type LimitVerdict = "ok" | "room" | "instance";

/** Room buckets kept at most; full ones are dropped first (they hold no state worth keeping). */
const MAX_ROOMS = 10_000;

export class RateLimits {
  private readonly instance: TokenBucket;
  private readonly rooms = new Map<string, TokenBucket>();

  constructor(
    private readonly settings: RateSettings,
    now: number,
  ) {
    this.instance = new TokenBucket(settings.burst, settings.perMinute, now);
  }

  /** Takes a token for `roomId` when both limits allow it; otherwise says which limit holds. */
  tryTake(roomId: string, now: number): LimitVerdict {
    if (!this.settings.enabled) return "ok";
    const room = this.roomBucket(roomId, now);
    if (!room.available(now)) return "room";
    if (!this.instance.available(now)) return "instance";
    room.take(now);
    this.instance.take(now);
    return "ok";
  }

  private roomBucket(roomId: string, now: number): TokenBucket {
    let bucket = this.rooms.get(roomId);
    if (!bucket) {
      if (this.rooms.size >= MAX_ROOMS) {
        for (const [id, b] of this.rooms) if (b.isFull(now)) this.rooms.delete(id);
        if (this.rooms.size >= MAX_ROOMS) this.rooms.delete(this.rooms.keys().next().value as string);
      }
      bucket = new TokenBucket(this.settings.roomBurst, this.settings.roomPerMinute, now);
      this.rooms.set(roomId, bucket);
    }
    return bucket;
  }
}
