// The matrix-js-sdk client of one bot account, built the way every bot uses it.
// Deep imports: the package index loads every module (WebRTC, MatrixRTC, OIDC, ...), about
// 7 MB more RSS for nothing a bot uses.
import { MatrixClient } from "matrix-js-sdk/lib/client.js";
import type { CryptoCallbacks } from "matrix-js-sdk/lib/crypto-api/index.js";
import { HttpApiEvent, type MatrixError } from "matrix-js-sdk/lib/http-api/index.js";
import { MemoryStore } from "matrix-js-sdk/lib/store/memory.js";
import type { Logger } from "pino";
import type { BotMetricsRecorder } from "../metrics/recorder.js";
import type { ClientRow } from "../store/types.js";
import { sdkLoggerFor } from "./sdk-logger.js";
import type { LongPoll } from "./long-poll.js";
import { botFetch, withClearedLocalTimeouts } from "./sync-http.js";

export interface SdkClientOptions {
  log: Logger;
  metrics?: BotMetricsRecorder;
  /** Secret storage keys for device verification (BotEncryption's). */
  cryptoCallbacks?: CryptoCallbacks;
  /** The account's long poll (what its /sync asks, and the step back when a proxy cuts it). */
  longPoll?: LongPoll;
  /** The homeserver answered M_UNKNOWN_TOKEN (the SDK's SessionLoggedOut). */
  onTokenRejected: (err: MatrixError) => void;
}

/**
 * What createClient does, minus the legacy crypto store and the send scheduler (sends go
 * straight to the HTTP API through the per-room queue). `deviceId` defaults to the row's.
 */
export function createSdkClient(row: ClientRow, options: SdkClientOptions, deviceId = row.device_id): MatrixClient {
  const client = new MatrixClient({
    baseUrl: row.homeserver.replace(/\/+$/, ""),
    accessToken: row.access_token,
    userId: row.id,
    deviceId: deviceId || undefined,
    store: new MemoryStore(),
    timelineSupport: false,
    logger: sdkLoggerFor(options.log),
    cryptoCallbacks: options.cryptoCallbacks,
    fetchFn: botFetch(row.id, options.metrics, options.longPoll),
  });
  // No client-wide localTimeoutMs: it would stand in for the /sync timeout left out here.
  withClearedLocalTimeouts(client.http);
  client.on(HttpApiEvent.SessionLoggedOut, options.onTokenRejected);
  return client;
}

/** Ends a client for good: no more sync, no listeners left holding the bot. */
export function discardSdkClient(client: MatrixClient | null): void {
  client?.stopClient();
  client?.removeAllListeners();
}
