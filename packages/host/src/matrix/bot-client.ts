// One bot account's connection: a matrix-js-sdk client, its start sequence (whoami, profile,
// encryption, sync), its health (sync_ok, last_error) and the Matrix calls plugins make with it.
// The parts live beside it: sdk-client (the SDK client), sync-loop and timeline-dispatch (what
// comes in), room-sender and room-calls (what goes out), bot-encryption, profile-push and
// timeline-trim.
//
// Start never gives up on an unreachable homeserver (maubot disables the client after 8 tries;
// operators report bots that stay dead after a reboot where the homeserver came up later).
// Only a rejected token or a user/device mismatch stops a client, with the reason in last_error.
import type { MatrixClient } from "matrix-js-sdk/lib/client.js";
import type { CryptoApi } from "matrix-js-sdk/lib/crypto-api/index.js";
import type { MatrixError } from "matrix-js-sdk/lib/http-api/index.js";
import { SyncState } from "matrix-js-sdk/lib/sync.js";
import type { Logger } from "pino";
import type { ClientMethod, ClientParams, ClientResult, MatrixEvent } from "@botyard/sdk";
import { HostError } from "../errors.js";
import type { BotMetricsRecorder } from "../metrics/recorder.js";
import type { ClientRow } from "../store/types.js";
import { BotEncryption, type EncryptionOptions } from "./bot-encryption.js";
import { describeError, MatrixCallError, toCallError } from "./call-errors.js";
import { LongPoll } from "./long-poll.js";
import type { TrustState } from "./crypto/verification.js";
import { pushProfile } from "./profile-push.js";
import { DEFAULT_RETRY, isUnknownToken, isUnreachable, sleep, type RetryPolicy } from "./request-retry.js";
import { roomCalls, runRoomCall, type RoomCalls } from "./room-calls.js";
import { RoomSender } from "./room-sender.js";
import { createSdkClient, discardSdkClient } from "./sdk-client.js";
import { startSyncLoop } from "./sync-loop.js";
import { TimelineDispatch } from "./timeline-dispatch.js";
import { memoryStatsOf, trimTimelines, type ClientMemoryStats } from "./timeline-trim.js";

export interface ClientStatus {
  /** whoami succeeded and the client runs (syncing or, with `sync: false`, ready to send). */
  started: boolean;
  /** The last /sync succeeded. */
  sync_ok: boolean;
  remote_displayname: string | null;
  remote_avatar_url: string | null;
  /** Why the client is not working, or what it is retrying; null when healthy. */
  last_error: string | null;
  /** The device the access token belongs to (whoami), null before the first whoami. */
  device_id: string | null;
  /** The device's verification state while encryption runs (matrix/crypto/verification.ts); null when it is off. */
  trust_state: TrustState | null;
  /** maubot's fingerprint: the device's ed25519 key in groups of four, while encryption runs. */
  fingerprint: string | null;
}

export interface BotClientOptions {
  log: Logger;
  /** A room event that passed the filters (live, not own). */
  onEvent: (event: MatrixEvent) => void;
  /** Timeline events kept per room before the live timeline is dropped (memory bound). */
  timelineLimit?: number;
  /** How long an idle /sync waits at the homeserver (shared by the pool per homeserver). */
  longPoll?: LongPoll;
  retry?: RetryPolicy;
  /** Longest wait between start attempts while the homeserver is unreachable. */
  maxStartBackoffMs?: number;
  /** Live timeline events kept per room between sweeps (default 50) and the sweep period (default 60 s). */
  timelineKeep?: number;
  sweepIntervalMs?: number;
  /** Sync timings, events, sends and rate limits (default: not recorded). */
  metrics?: BotMetricsRecorder;
  /** End-to-end encryption (for clients that sync); null or absent: off. */
  encryption?: EncryptionOptions | null;
}

const TIMELINE_LIMIT = 10;
const LIVE_TIMELINE_KEEP = 50;
const SWEEP_INTERVAL_MS = 60_000;

export class BotClient {
  private client: MatrixClient | null = null;
  private abort = new AbortController();
  private sweepTimer: NodeJS.Timeout | null = null;
  private state: Omit<ClientStatus, "device_id" | "trust_state" | "fingerprint"> = {
    started: false,
    sync_ok: false,
    remote_displayname: null,
    remote_avatar_url: null,
    last_error: null,
  };
  /** A token rejection or mismatch: calls fail fast until the row changes. */
  private fatal = false;
  private running = false;
  /** The device id whoami reported (the row's may be empty). */
  private deviceId = "";
  private startTask: Promise<void> | null = null;
  private readyWaiters: Array<() => void> = [];
  /** Present when the host runs encryption; it knows whether it runs for this bot. */
  private readonly encryption: BotEncryption | null;
  private readonly calls: RoomCalls;
  private readonly timeline: TimelineDispatch;
  private readonly longPoll: LongPoll;

  constructor(
    private row: ClientRow,
    private readonly options: BotClientOptions,
  ) {
    this.encryption = options.encryption ? new BotEncryption(options.encryption, row.id, options.log) : null;
    this.longPoll = options.longPoll ?? new LongPoll({ log: options.log });
    const connection = {
      userId: row.id,
      requireClient: () => this.requireClient(),
      encryptionOn: () => this.encryption?.running ?? false,
      retry: () => this.retry(),
      metrics: options.metrics,
    };
    this.calls = roomCalls({ ...connection, sender: new RoomSender(connection) });
    this.timeline = new TimelineDispatch({
      ...connection,
      log: options.log,
      onEvent: options.onEvent,
      isCurrent: (client) => this.running && this.client === client,
    });
  }

  get id(): string {
    return this.row.id;
  }

  get config(): ClientRow {
    return this.row;
  }

  status(): ClientStatus {
    return {
      ...this.state,
      device_id: this.deviceId || null,
      trust_state: this.encryption?.trustState ?? null,
      fingerprint: this.encryption?.fingerprint ?? null,
    };
  }

  /** maubot 0.6's generate_recovery_key: cross-signing, secret storage and key backup; the key is returned once. */
  generateRecoveryKey(): Promise<string> {
    const { client, crypto, encryption } = this.requireCrypto();
    return encryption.generateRecoveryKey(client, crypto, this.deviceId);
  }

  /** maubot 0.6's verify: this device verified with the account's recovery key. */
  verifyWithRecoveryKey(recoveryKey: string): Promise<TrustState> {
    const { client, crypto, encryption } = this.requireCrypto();
    return encryption.verifyWithRecoveryKey(client, crypto, this.deviceId, recoveryKey);
  }

  /**
   * Starts the client in the background. Resolves after the first attempt: started, failed for
   * good (last_error says why), or still retrying an unreachable homeserver.
   */
  start(): Promise<void> {
    if (this.running) return Promise.resolve();
    this.running = true;
    this.fatal = false;
    this.abort = new AbortController();
    this.client = this.newSdkClient();
    let firstAttemptDone!: () => void;
    const firstAttempt = new Promise<void>((r) => (firstAttemptDone = r));
    this.startTask = this.startLoop(firstAttemptDone).catch((err: unknown) => {
      this.options.log.error({ err: describeError(err) }, "client start failed");
    });
    return firstAttempt;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.halt(new Error("client stopped"));
    await this.startTask;
    await this.encryption?.close();
    this.state.started = false;
    this.state.sync_ok = false;
  }

  /** Replace the row (token, flags, profile). Returns true when a restart is needed. */
  needsRestart(next: ClientRow): boolean {
    const prev = this.row;
    return (
      prev.homeserver !== next.homeserver ||
      prev.access_token !== next.access_token ||
      prev.device_id !== next.device_id ||
      prev.sync !== next.sync ||
      prev.online !== next.online ||
      prev.enabled !== next.enabled
    );
  }

  /** Apply a row whose changes need no restart (autojoin, profile). */
  async applyLive(next: ClientRow): Promise<void> {
    const profileChanged = next.displayname !== this.row.displayname || next.avatar_url !== this.row.avatar_url;
    this.row = next;
    if (profileChanged && this.state.started) await this.pushProfile();
  }

  /** Resolves when the client is started and (with sync) has finished its first sync; false on timeout. */
  async whenReady(timeoutMs: number): Promise<boolean> {
    if (this.isReady()) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.readyWaiters = this.readyWaiters.filter((w) => w !== onReady);
        resolve(false);
      }, timeoutMs);
      const onReady = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.readyWaiters.push(onReady);
    });
  }

  memoryStats(): ClientMemoryStats {
    return memoryStatsOf(this.client);
  }

  /** Runs one of the plugin calls of the SDK's contract with this account. */
  async call<M extends ClientMethod>(method: M, params: ClientParams<M>): Promise<ClientResult<M>> {
    try {
      return await runRoomCall(this.calls, { method, params });
    } catch (err) {
      throw toCallError(err);
    }
  }

  private isReady(): boolean {
    return this.state.started && (!this.row.sync || this.state.sync_ok);
  }

  private notifyReady(): void {
    if (!this.isReady()) return;
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w();
  }

  private newSdkClient(deviceId = this.row.device_id): MatrixClient {
    const { log, metrics } = this.options;
    const cryptoCallbacks = this.encryption?.callbacks;
    return createSdkClient(this.row, { log, metrics, cryptoCallbacks, longPoll: this.longPoll, onTokenRejected: (err) => this.onTokenRejected(err) }, deviceId);
  }

  /** whoami until the homeserver answers, then profile, encryption and sync. */
  private async startLoop(firstAttemptDone: () => void): Promise<void> {
    const { log } = this.options;
    const maxBackoff = this.options.maxStartBackoffMs ?? 60_000;
    let backoff = 1000;
    try {
      for (;;) {
        const client = this.client;
        if (!this.running || !client) return;
        try {
          const me = await client.whoami();
          this.deviceId = me.device_id ?? this.row.device_id;
          if (me.user_id !== this.row.id) {
            return this.failFatally(`The access token belongs to ${me.user_id}, not ${this.row.id} (user mismatch)`);
          }
          if (this.row.device_id && me.device_id && me.device_id !== this.row.device_id) {
            return this.failFatally(`The access token belongs to device ${me.device_id}, not ${this.row.device_id} (device mismatch)`);
          }
          break;
        } catch (err) {
          if (!this.running) return;
          if (isUnknownToken(err)) {
            this.onTokenRejected(err); // usually already done by the SDK's SessionLoggedOut
            return;
          }
          // Anything else may pass (a homeserver still starting answers 5xx): keep trying.
          const retry = `retrying in ${Math.round(backoff / 1000)} s`;
          this.state.last_error = isUnreachable(err)
            ? `Homeserver ${this.row.homeserver} not reachable (${describeError(err)}); ${retry}`
            : `whoami failed (${describeError(err)}); ${retry}`;
          log.warn({ err: describeError(err), retry_in_ms: backoff }, "whoami failed, retrying");
          firstAttemptDone();
          try {
            await sleep(backoff, this.abort.signal);
          } catch {
            return;
          }
          backoff = Math.min(backoff * 2, maxBackoff);
        }
      }
      if (!this.running) return;
      this.state.started = true;
      this.state.last_error = null;
      log.info({ sync: this.row.sync }, "client started");
      await this.pushProfile();
      if (this.row.sync && this.encryption) await this.startEncryption(this.encryption);
      if (!this.running) return;
      if (this.row.sync) this.startSync();
      this.notifyReady();
    } finally {
      firstAttemptDone();
    }
  }

  /** Ends the running client: no more requests, retries or sweeps. */
  private halt(reason: Error): void {
    this.running = false;
    this.abort.abort(reason);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    const client = this.client;
    this.client = null;
    discardSdkClient(client);
  }

  private failFatally(reason: string): void {
    this.fatal = true;
    this.state.last_error = reason;
    this.state.started = false;
    this.state.sync_ok = false;
    this.options.log.error(`client ${this.row.id} stopped: ${reason}`);
    this.halt(new Error(reason));
    void this.encryption?.close();
  }

  private onTokenRejected(err: MatrixError): void {
    if (this.fatal) return;
    this.failFatally(`The homeserver rejected the access token (${describeError(err)}); log in again or set a new token`);
  }

  /** On failure the client goes on without encryption and last_error says what to do. */
  private async startEncryption(encryption: BotEncryption): Promise<void> {
    const client = this.client;
    if (!client) return;
    const started = await encryption.start(client, this.deviceId, this.row.device_id, (deviceId) => this.newSdkClient(deviceId));
    if (started.error) this.state.last_error = started.error;
    if (started.client === client) return;
    if (this.running) this.client = started.client;
    else discardSdkClient(started.client);
  }

  private startSync(): void {
    const client = this.client;
    if (!client) return;
    const { log } = this.options;
    startSyncLoop(client, {
      log,
      row: () => this.row,
      timelineLimit: this.options.timelineLimit ?? TIMELINE_LIMIT,
      longPollMs: this.longPoll.waitMs,
      timeline: this.timeline,
      isRunning: () => this.running,
      retry: () => this.retry(),
      onSyncState: (ok, state, prev) => {
        if (ok && !this.state.sync_ok && (prev === SyncState.Error || prev === SyncState.Reconnecting)) log.info("sync recovered");
        if (!ok && this.state.sync_ok && state !== SyncState.Stopped) log.warn({ state }, "sync failing, retrying");
        this.state.sync_ok = ok;
        if (ok && this.state.last_error?.startsWith("Sync")) this.state.last_error = null;
        if (state === SyncState.Error) this.state.last_error = "Sync failing; retrying until the homeserver answers";
        this.notifyReady();
      },
    });
    const keep = this.options.timelineKeep ?? LIVE_TIMELINE_KEEP;
    this.sweepTimer = setInterval(() => {
      if (this.client) trimTimelines(this.client, keep, log);
    }, this.options.sweepIntervalMs ?? SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  private async pushProfile(): Promise<void> {
    const client = this.client;
    if (!client) return;
    const remote = await pushProfile(client, this.row, this.retry(), this.options.log, () => this.running);
    if (remote) Object.assign(this.state, remote);
  }

  private requireCrypto(): { client: MatrixClient; crypto: CryptoApi; encryption: BotEncryption } {
    const encryption = this.encryption;
    const crypto = encryption?.running ? this.client?.getCrypto() : undefined;
    if (!this.client || !crypto || !encryption) {
      const why = this.state.last_error ?? (this.row.sync ? "it is not running" : "it does not sync (sync: false)");
      throw new HostError("client_encryption_off", `Encryption is off for ${this.row.id}: ${why}`);
    }
    return { client: this.client, crypto, encryption };
  }

  private requireClient(): MatrixClient {
    if (this.fatal) throw new MatrixCallError(`Client ${this.row.id} is stopped: ${this.state.last_error ?? "error"}`, null, null);
    if (!this.client) throw new MatrixCallError(`Client ${this.row.id} is not running`, null, null);
    return this.client;
  }

  private retry(): RetryPolicy {
    const metrics = this.options.metrics;
    const onRateLimited = metrics ? () => metrics.rateLimited(this.row.id) : undefined;
    return { ...(this.options.retry ?? DEFAULT_RETRY), signal: this.abort.signal, onRateLimited };
  }
}
