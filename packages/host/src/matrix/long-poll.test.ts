import pino from "pino";
import { describe, expect, it } from "vitest";
import { DEFAULT_LONG_POLL_SECONDS } from "../config/schema.js";
import { askedTimeoutMs, DEFAULT_LONG_POLL_MS, LongPoll, SAFE_LONG_POLL_MS } from "./long-poll.js";

const sync = (timeout?: number) => new URL(`http://hs/_matrix/client/v3/sync?since=s1${timeout === undefined ? "" : `&timeout=${timeout}`}`);

/** A logger whose warnings are kept. */
function warnings(): { log: pino.Logger; seen: Array<Record<string, unknown>> } {
  const seen: Array<Record<string, unknown>> = [];
  const log = pino({ level: "warn" }, { write: (line: string) => void seen.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, seen };
}

describe("LongPoll", () => {
  it("waits 55 s by default, the config's default", () => {
    expect(new LongPoll().waitMs).toBe(55_000);
    expect(DEFAULT_LONG_POLL_MS).toBe(DEFAULT_LONG_POLL_SECONDS * 1000);
    expect(new LongPoll({ waitMs: 20_000 }).waitMs).toBe(20_000);
  });

  it("reads a /sync's timeout", () => {
    expect(askedTimeoutMs(sync(55_000))).toBe(55_000);
    expect(askedTimeoutMs(sync())).toBe(0);
    expect(askedTimeoutMs(new URL("http://hs/_matrix/client/v3/sync?timeout=soon"))).toBe(0);
  });

  it("sends the SDK's URL as it is until a wait was cut", () => {
    const url = sync(55_000);
    expect(new LongPoll().urlFor(url)).toBe(url);
  });

  it("takes only a gateway timeout of a wait longer than the fallback, after the fallback's time, for a cut", () => {
    const poll = new LongPoll();
    expect(poll.cutShort(sync(55_000), 29_999, 504)).toBe(false); // sooner than any proxy that lets 30 s through
    expect(poll.cutShort(sync(30_000), 50_000, 504)).toBe(false); // asked no more than the fallback
    expect(poll.cutShort(sync(55_000), 50_000, 502)).toBe(false); // a homeserver that went away
    expect(poll.cutShort(sync(55_000), 50_000, 500)).toBe(false);
    expect(poll.cutShort(sync(55_000), 50_000, 429)).toBe(false);
    expect(poll.urlFor(sync(55_000)).searchParams.get("timeout")).toBe("55000");
    expect(new LongPoll().cutShort(sync(55_000), 50_000, 524)).toBe(true); // Cloudflare's
    expect(poll.cutShort(sync(55_000), 50_000, 504)).toBe(true);
  });

  it("asks the fallback from then on, once, with one warning that says what to set", () => {
    const { log, seen } = warnings();
    const poll = new LongPoll({ log });
    expect(poll.cutShort(sync(55_000), 50_123, 504)).toBe(true);
    expect(poll.cutShort(sync(55_000), 50_000, 504)).toBe(true);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ asked_s: 55, cut_after_s: 50, status: 504, now_s: SAFE_LONG_POLL_MS / 1000 });
    expect(seen[0]!.msg).toContain("sync.long_poll_seconds");

    const lowered = poll.urlFor(sync(55_000));
    expect(lowered.searchParams.get("timeout")).toBe(String(SAFE_LONG_POLL_MS));
    expect(lowered.searchParams.get("since")).toBe("s1");
    // The SDK's catch-up syncs ask 0: left as they are.
    const catchUp = sync(0);
    expect(poll.urlFor(catchUp)).toBe(catchUp);
    // A fallback wait is never taken for a cut (no loop of retries).
    expect(poll.cutShort(lowered, 40_000, 504)).toBe(false);
  });
});
