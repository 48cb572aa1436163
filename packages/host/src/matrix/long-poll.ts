// How long a bot's idle /sync waits at the homeserver, and the step back to 30 s when something
// between botyard and the homeserver cuts a longer wait.
//
// Why longer than the 30 s Element and maubot ask: an idle account costs a /sync round trip per
// long poll, and hundreds of idle accounts spend most of the daemon's idle CPU on them (issue 18);
// 55 s makes 0.55 times as many. A message still arrives at once (the homeserver answers the
// long poll as soon as there is something). The risk is a reverse proxy whose read timeout is
// shorter than the wait: nginx, Apache and AWS load balancers allow 60 s by default, HAProxy's
// sample configuration 50 s. A proxy that gives up answers 504 (Cloudflare: 524); such a /sync is
// asked again at once for 30 s, the length every Matrix client asks, and that homeserver's accounts
// stay at 30 s: the SDK never sees the cut. A 502 or a dropped connection is not taken for a cut:
// a homeserver restarting ends long polls that way too.
import type { Logger } from "pino";
import { DEFAULT_LONG_POLL_SECONDS } from "../config/schema.js";

/** What Element and maubot ask; a homeserver's proxy has to let it through. */
export const SAFE_LONG_POLL_MS = 30_000;
/** The default wait (config `sync.long_poll_seconds`). */
export const DEFAULT_LONG_POLL_MS = DEFAULT_LONG_POLL_SECONDS * 1000;
/** How a proxy answers when the homeserver did not answer in its time (Gateway Timeout; Cloudflare's). */
const PROXY_TIMEOUT_STATUSES = new Set([504, 524]);

/** The long poll's timeout of a /sync URL, in ms (0 when absent or not a number). */
export function askedTimeoutMs(url: URL): number {
  const timeout = Number(url.searchParams.get("timeout") ?? 0);
  return Number.isFinite(timeout) && timeout > 0 ? timeout : 0;
}

export interface LongPollOptions {
  /** The wait the SDK asks (its pollTimeout); default DEFAULT_LONG_POLL_MS. */
  waitMs?: number;
  /** The wait asked after a cut; default SAFE_LONG_POLL_MS (tests shorten it). */
  fallbackMs?: number;
  log?: Logger;
}

/**
 * The long poll of the accounts on one homeserver (a proxy in front of it cuts them all alike):
 * what their /sync asks, lowered for good once a longer wait was cut.
 */
export class LongPoll {
  readonly waitMs: number;
  readonly #fallbackMs: number;
  readonly #log: Logger | undefined;
  #lowered = false;

  constructor(options: LongPollOptions = {}) {
    this.waitMs = options.waitMs ?? DEFAULT_LONG_POLL_MS;
    this.#fallbackMs = options.fallbackMs ?? SAFE_LONG_POLL_MS;
    this.#log = options.log;
  }

  /** The /sync URL to send: the SDK's, or one asking the fallback once a longer wait was cut. */
  urlFor(url: URL): URL {
    if (!this.#lowered || askedTimeoutMs(url) <= this.#fallbackMs) return url;
    const lowered = new URL(url);
    lowered.searchParams.set("timeout", String(this.#fallbackMs));
    return lowered;
  }

  /**
   * Whether this /sync was cut by a proxy: it asked more than the fallback, stayed open at least
   * as long as the fallback, and got a gateway timeout. From then on the fallback is asked (and
   * the caller asks this /sync again).
   */
  cutShort(url: URL, elapsedMs: number, status: number): boolean {
    const asked = askedTimeoutMs(url);
    if (asked <= this.#fallbackMs || elapsedMs < this.#fallbackMs || !PROXY_TIMEOUT_STATUSES.has(status)) return false;
    if (!this.#lowered) {
      this.#lowered = true;
      this.#log?.warn(
        { asked_s: asked / 1000, cut_after_s: Math.round(elapsedMs / 1000), status, now_s: this.#fallbackMs / 1000 },
        "a proxy gave up on a /sync long poll before the homeserver answered; asking shorter ones from now on. Set sync.long_poll_seconds below the proxy's timeout (e.g. nginx proxy_read_timeout) to skip this",
      );
    }
    return true;
  }
}
