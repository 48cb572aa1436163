// One bot account's connection: a matrix-js-sdk client, its start sequence (whoami, profile,
// sync), its health (sync_ok, last_error) and the Matrix calls plugins make with it.
//
// Start never gives up on an unreachable homeserver (maubot disables the client after 8 tries;
// operators report bots that stay dead after a reboot where the homeserver came up later).
// Only a rejected token or a user/device mismatch stops a client, with the reason in last_error.
// Deep imports: the package index loads every module (WebRTC, MatrixRTC, OIDC, ...), about
// 7 MB more RSS for nothing a bot uses.
import { ClientEvent, MatrixClient } from "matrix-js-sdk/lib/client.js";
import { EventType } from "matrix-js-sdk/lib/@types/event.js";
import { Filter } from "matrix-js-sdk/lib/filter.js";
import { HttpApiEvent, MatrixError, Method } from "matrix-js-sdk/lib/http-api/index.js";
import { EventStatus, MatrixEventEvent, type MatrixEvent as SdkEvent } from "matrix-js-sdk/lib/models/event.js";
import type { TimelineEvents } from "matrix-js-sdk/lib/@types/event.js";
import type { IRoomTimelineData } from "matrix-js-sdk/lib/models/event-timeline-set.js";
import { RoomEvent, type Room } from "matrix-js-sdk/lib/models/room.js";
import { MemoryStore } from "matrix-js-sdk/lib/store/memory.js";
import { SyncState } from "matrix-js-sdk/lib/sync.js";
import type { BotMetricsRecorder } from "../metrics/recorder.js";
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { ClientMethod, ClientParams, ClientResult, MatrixEvent, PowerLevels } from "@botyard/sdk";
import type { ClientRow } from "../store/types.js";
import { buildMessageContent, withDefaultMentions } from "./message-content.js";
import { renderMarkdown, sanitizeMatrixHtml } from "./format.js";
import { KeyedSerialQueue } from "../keyed-serial-queue.js";
import { DEFAULT_RETRY, isUnknownToken, isUnreachable, sleep, withRetry, type RetryPolicy } from "./request-retry.js";
import { sdkLoggerFor } from "./sdk-logger.js";
import { CryptoStore, CryptoStoreError } from "./crypto/crypto-store.js";
import { deviceHasPublishedKeys, foreignDeviceKeysMessage } from "./crypto/device-keys.js";
import { DeviceVerification, fingerprintOf, type TrustState } from "./crypto/verification.js";
import { openUploadFile } from "./upload-file.js";
import { openAsBlob } from "node:fs";
import { encryptAttachment, withEncryptedFile } from "./crypto/attachment.js";
import type { CryptoApi } from "matrix-js-sdk/lib/crypto-api/index.js";
import { HostError } from "../errors.js";

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

/** A Matrix call failed; `errcode` is the homeserver's (e.g. M_FORBIDDEN) when it answered. */
export class MatrixCallError extends Error {
  constructor(
    message: string,
    readonly errcode: string | null,
    readonly httpStatus: number | null,
  ) {
    super(message);
    this.name = "MatrixCallError";
  }
}

export interface BotClientOptions {
  log: Logger;
  /** A room event that passed the filters (live, not own). */
  onEvent: (event: MatrixEvent) => void;
  /** Timeline events kept per room before the live timeline is dropped (memory bound). */
  timelineLimit?: number;
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

export interface EncryptionOptions {
  /** Folder of the per-account crypto store files. */
  storeDir: string;
  /** crypto_db_pickle_key: the crypto stores are encrypted with keys derived from it. */
  pickleKey: string;
}

/** What the SDK holds in memory for one client. */
export interface ClientMemoryStats {
  rooms: number;
  /** Events in the live timelines of all rooms. */
  timeline_events: number;
  /** Events in the longest live timeline. */
  largest_timeline: number;
}

const TIMELINE_LIMIT = 10;
/** Encrypted attachments are uploaded as opaque bytes; the real type is in the encrypted event. */
const ENCRYPTED_MEDIA_TYPE = "application/octet-stream";
const LIVE_TIMELINE_KEEP = 50;
const SWEEP_INTERVAL_MS = 60_000;

/** Matrix's defaults for `m.room.power_levels` fields (client-server API, m.room.power_levels). */
function powerLevelsWithDefaults(content: Record<string, unknown> | null, creator: string | null): PowerLevels {
  const num = (v: unknown, d: number): number => (typeof v === "number" && Number.isFinite(v) ? v : d);
  const rec = <T>(v: unknown): Record<string, T> => (v && typeof v === "object" && !Array.isArray(v) ? { ...(v as Record<string, T>) } : {});
  if (content === null) {
    // No power levels event: the creator has 100, everyone else 0, and every action needs 0
    // except ban/kick/redact (50).
    return {
      users: creator ? { [creator]: 100 } : {},
      users_default: 0,
      events: {},
      events_default: 0,
      state_default: 0,
      ban: 50,
      kick: 50,
      redact: 50,
      invite: 0,
    };
  }
  return {
    users: rec<number>(content.users),
    users_default: num(content.users_default, 0),
    events: rec<number>(content.events),
    events_default: num(content.events_default, 0),
    state_default: num(content.state_default, 50),
    ban: num(content.ban, 50),
    kick: num(content.kick, 50),
    redact: num(content.redact, 50),
    invite: num(content.invite, 0),
  };
}

function describe(err: unknown): string {
  if (err instanceof MatrixError) return `${err.errcode ?? `HTTP ${err.httpStatus}`}: ${err.data?.error ?? err.message}`;
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? ` (${err.cause.message})` : "";
    return `${err.message}${cause}`;
  }
  return String(err);
}

function toCallError(err: unknown): Error {
  if (err instanceof MatrixCallError) return err;
  if (err instanceof MatrixError) return new MatrixCallError(describe(err), err.errcode ?? null, err.httpStatus ?? null);
  if (isUnreachable(err)) return new MatrixCallError(`Homeserver unreachable: ${describe(err)}`, null, null);
  return err instanceof Error ? err : new Error(String(err));
}

const enc = encodeURIComponent;

export class BotClient {
  private client: MatrixClient | null = null;
  /** Sends to one room, one after another in call order. */
  private readonly queue = new KeyedSerialQueue();
  private abort = new AbortController();
  private sweepTimer: NodeJS.Timeout | null = null;
  private txnCounter = 0;
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
  /** The open crypto store while encryption is on. */
  private cryptoStore: CryptoStore | null = null;
  private fingerprint: string | null = null;
  private readonly verification: DeviceVerification;

  constructor(
    private row: ClientRow,
    private readonly options: BotClientOptions,
  ) {
    this.verification = new DeviceVerification(row.id, options.log);
  }

  get id(): string {
    return this.row.id;
  }

  get config(): ClientRow {
    return this.row;
  }

  status(): ClientStatus {
    const crypto = this.cryptoStore !== null;
    return {
      ...this.state,
      device_id: this.deviceId || null,
      trust_state: crypto ? this.verification.trustState : null,
      fingerprint: crypto ? this.fingerprint : null,
    };
  }

  /** maubot 0.6's generate_recovery_key: cross-signing, secret storage and key backup; the key is returned once. */
  generateRecoveryKey(): Promise<string> {
    const { client, crypto } = this.requireCrypto();
    return this.verification.generateRecoveryKey(client, crypto, this.deviceId);
  }

  /** maubot 0.6's verify: this device verified with the account's recovery key. */
  verifyWithRecoveryKey(recoveryKey: string): Promise<TrustState> {
    const { client, crypto } = this.requireCrypto();
    return this.verification.verifyWithRecoveryKey(client, crypto, this.deviceId, recoveryKey);
  }

  private requireCrypto(): { client: MatrixClient; crypto: CryptoApi } {
    const crypto = this.cryptoStore ? this.client?.getCrypto() : undefined;
    if (!this.client || !crypto) {
      const why = this.state.last_error ?? (this.row.sync ? "it is not running" : "it does not sync (sync: false)");
      throw new HostError("client_encryption_off", `Encryption is off for ${this.row.id}: ${why}`);
    }
    return { client: this.client, crypto };
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
    this.client = this.createSdkClient();
    let firstAttemptDone!: () => void;
    const firstAttempt = new Promise<void>((r) => (firstAttemptDone = r));
    this.startTask = this.startLoop(firstAttemptDone).catch((err: unknown) => {
      this.options.log.error({ err: describe(err) }, "client start failed");
    });
    return firstAttempt;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.abort.abort(new Error("client stopped"));
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    const client = this.client;
    this.client = null;
    client?.stopClient();
    client?.removeAllListeners();
    await this.startTask;
    await this.closeCryptoStore();
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

  private isReady(): boolean {
    return this.state.started && (!this.row.sync || this.state.sync_ok);
  }

  private notifyReady(): void {
    if (!this.isReady()) return;
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w();
  }

  private createSdkClient(deviceId = this.row.device_id): MatrixClient {
    // What createClient does, minus the legacy crypto store and the send scheduler (sends go
    // straight to the HTTP API through the per-room queue).
    const client = new MatrixClient({
      baseUrl: this.row.homeserver.replace(/\/+$/, ""),
      accessToken: this.row.access_token,
      userId: this.row.id,
      deviceId: deviceId || undefined,
      store: new MemoryStore(),
      timelineSupport: false,
      logger: sdkLoggerFor(this.options.log),
      localTimeoutMs: 60_000,
      cryptoCallbacks: this.verification.callbacks,
      ...(this.options.metrics ? { fetchFn: timedSyncFetch(this.row.id, this.options.metrics) } : {}),
    });
    client.on(HttpApiEvent.SessionLoggedOut, (err) => this.onTokenRejected(err));
    return client;
  }

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
            ? `Homeserver ${this.row.homeserver} not reachable (${describe(err)}); ${retry}`
            : `whoami failed (${describe(err)}); ${retry}`;
          log.warn({ err: describe(err), retry_in_ms: backoff }, "whoami failed, retrying");
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
      if (this.row.sync && this.options.encryption) await this.startCrypto(this.options.encryption);
      if (!this.running) return;
      if (this.row.sync) this.startSync();
      this.notifyReady();
    } finally {
      firstAttemptDone();
    }
  }

  private failFatally(reason: string): void {
    this.fatal = true;
    this.state.last_error = reason;
    this.state.started = false;
    this.state.sync_ok = false;
    this.options.log.error(`client ${this.row.id} stopped: ${reason}`);
    const client = this.client;
    this.running = false;
    this.abort.abort(new Error(reason));
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    this.client = null;
    client?.stopClient();
    client?.removeAllListeners();
    void this.closeCryptoStore();
  }

  /**
   * Opens the account's crypto store and starts the Rust crypto. On failure the client goes on
   * without encryption (unencrypted rooms keep working) and last_error says what to do.
   */
  private async startCrypto(options: EncryptionOptions): Promise<void> {
    const { log } = this.options;
    if (!this.deviceId) {
      this.state.last_error = "Encryption needs a device id: log the account in again (POST /client/auth/{server}/login) or set device_id";
      log.error(this.state.last_error);
      return;
    }
    if (this.deviceId !== this.row.device_id) {
      // The token's device, learnt from whoami: the SDK client must know it before crypto starts.
      this.client?.stopClient();
      this.client?.removeAllListeners();
      this.client = this.createSdkClient(this.deviceId);
    }
    const client = this.client;
    if (!client) return;
    const store = new CryptoStore({ dir: options.storeDir, pickleKey: options.pickleKey, userId: this.row.id, deviceId: this.deviceId, log });
    try {
      const found = await store.open();
      if (!found && (await deviceHasPublishedKeys(client, this.row.id, this.deviceId))) {
        throw new CryptoStoreError(foreignDeviceKeysMessage(this.deviceId));
      }
      this.cryptoStore = store;
      await client.initRustCrypto({ useIndexedDB: true, cryptoDatabasePrefix: store.prefix, storageKey: store.storageKey() });
      // The device keys exist from here on: keep them before anything else can go wrong.
      await store.flush();
      const crypto = client.getCrypto();
      if (crypto) {
        this.fingerprint = fingerprintOf((await crypto.getOwnDeviceKeys()).ed25519);
        await this.verification.refresh(crypto, this.deviceId);
        this.verification.watch(client, crypto, this.deviceId);
      }
      log.info({ device_id: this.deviceId, trust_state: this.verification.trustState }, "encryption on");
    } catch (err) {
      this.state.last_error = `Encryption is off for this account: ${describe(err)}`;
      log.error({ err: describe(err) }, "could not start encryption; syncing without it");
      // Whatever went wrong, the file stays as it was.
      this.cryptoStore = null;
      store.abandon();
      this.client?.stopClient();
      this.client?.removeAllListeners();
      this.client = this.createSdkClient(this.deviceId);
    }
  }

  private async closeCryptoStore(): Promise<void> {
    const store = this.cryptoStore;
    this.cryptoStore = null;
    this.verification.reset();
    this.fingerprint = null;
    await store?.close();
  }

  private onTokenRejected(err: MatrixError): void {
    if (this.fatal) return;
    this.failFatally(`The homeserver rejected the access token (${describe(err)}); log in again or set a new token`);
  }

  /** Push displayname/avatar unless "disable", then read back what the homeserver has. */
  private async pushProfile(): Promise<void> {
    const client = this.client;
    if (!client) return;
    const { log } = this.options;
    try {
      if (this.row.displayname !== "disable") await withRetry(() => client.setDisplayName(this.row.displayname), this.retry());
      if (this.row.avatar_url !== "disable") await withRetry(() => client.setAvatarUrl(this.row.avatar_url), this.retry());
    } catch (err) {
      if (!this.running) return;
      log.warn({ err: describe(err) }, "could not set the profile");
    }
    try {
      const profile = await client.getProfileInfo(this.row.id);
      this.state.remote_displayname = typeof profile.displayname === "string" ? profile.displayname : null;
      this.state.remote_avatar_url = typeof profile.avatar_url === "string" ? profile.avatar_url : null;
    } catch (err) {
      if (!this.running) return;
      log.debug({ err: describe(err) }, "could not read the profile");
    }
  }

  private retry(): RetryPolicy {
    const metrics = this.options.metrics;
    const onRateLimited = metrics ? () => metrics.rateLimited(this.row.id) : undefined;
    return { ...(this.options.retry ?? DEFAULT_RETRY), signal: this.abort.signal, onRateLimited };
  }

  private syncFilter(): Filter {
    const filter = new Filter(this.row.id);
    filter.setDefinition({
      room: {
        timeline: { limit: this.options.timelineLimit ?? TIMELINE_LIMIT },
        state: { lazy_load_members: true },
        // Typing notifications and receipts: nothing a bot plugin receives.
        ephemeral: { not_types: ["*"] },
        // Synapse caches /sync answers by request (2 minutes by default), so a client restarted
        // within that time would get the previous start's initial sync and then every event
        // since as "live": the backlog would be replayed. A filter unique to this start (an
        // event type that never exists) makes the request new.
        account_data: { not_types: [`org.botyard.start.${randomUUID()}`] },
      },
      presence: this.row.online ? {} : { not_types: ["*"] },
    });
    return filter;
  }

  private startSync(): void {
    const client = this.client;
    if (!client) return;
    const { log } = this.options;
    client.on(ClientEvent.Sync, (state: SyncState, prev: SyncState | null) => {
      const ok = state === SyncState.Prepared || state === SyncState.Syncing || state === SyncState.Catchup;
      if (ok && !this.state.sync_ok && (prev === SyncState.Error || prev === SyncState.Reconnecting)) log.info("sync recovered");
      if (!ok && this.state.sync_ok && state !== SyncState.Stopped) log.warn({ state }, "sync failing, retrying");
      this.state.sync_ok = ok;
      if (ok && this.state.last_error?.startsWith("Sync")) this.state.last_error = null;
      if (state === SyncState.Error) this.state.last_error = "Sync failing; retrying until the homeserver answers";
      this.notifyReady();
    });
    client.on(RoomEvent.Timeline, (event, room, toStart, removed, data) => this.onTimeline(client, event, room, toStart, removed, data));
    client.on(RoomEvent.MyMembership, (room: Room, membership: string) => {
      if (membership !== "invite" || !this.row.autojoin) return;
      const roomId = room.roomId;
      log.info({ room_id: roomId }, "invited, joining");
      withRetry(() => client.http.authedRequest(Method.Post, `/rooms/${enc(roomId)}/join`, undefined, {}), this.retry()).catch(
        (err: unknown) => {
          if (this.running) log.warn({ room_id: roomId, err: describe(err) }, "could not join after an invite");
        },
      );
    });
    void client.startClient({
      initialSyncLimit: 1,
      lazyLoadMembers: true,
      disablePresence: !this.row.online,
      filter: this.syncFilter(),
      threadSupport: false,
      pollTimeout: 30_000,
    });
    // Bots do not take part in calls: never start the MatrixRTC session manager (it keeps a
    // session object per room and logs through the SDK's global logger). startClient registers
    // its starter synchronously, before its first await, so it can be removed right here.
    const rtcStarter = (client as unknown as { startMatrixRTC?: (...args: unknown[]) => void }).startMatrixRTC;
    if (rtcStarter) client.off(ClientEvent.Sync, rtcStarter as never);
    this.sweepTimer = setInterval(() => this.trimTimelines(), this.options.sweepIntervalMs ?? SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  private onTimeline(
    client: MatrixClient,
    event: SdkEvent,
    room: Room | undefined,
    toStart: boolean | undefined,
    removed: boolean,
    data: IRoomTimelineData,
  ): void {
    // The initial sync's timeline arrives as live events: that backlog is never dispatched.
    if (toStart || removed || !room || !client.isInitialSyncComplete()) return;
    if (data.liveEvent === false) return;
    this.options.metrics?.eventReceived(this.row.id, event.getType());
    if (event.getSender() === this.row.id) return;
    if (event.status !== null) return; // local echo
    if (event.isEncrypted() && this.cryptoStore) {
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
    await client.decryptEventIfNeeded(event);
    if (!this.running) return;
    if (!event.isDecryptionFailure()) {
      this.dispatch(event, room);
      return;
    }
    this.options.log.warn(
      { event_id: event.getId(), room_id: room.roomId, sender: event.getSender(), reason: event.decryptionFailureReason },
      "could not decrypt an event; it is dispatched if its keys arrive later",
    );
    const onDecrypted = (ev: SdkEvent): void => {
      if (ev.isDecryptionFailure() || ev.isBeingDecrypted()) return;
      event.off(MatrixEventEvent.Decrypted, onDecrypted);
      if (!this.running || this.client !== client) return;
      this.options.log.info({ event_id: event.getId(), room_id: room.roomId }, "decrypted a late event");
      this.dispatch(event, room);
    };
    event.on(MatrixEventEvent.Decrypted, onDecrypted);
  }

  private dispatch(event: SdkEvent, room: Room): void {
    const raw = event.getEffectiveEvent();
    const out: MatrixEvent = {
      event_id: event.getId() ?? "",
      room_id: event.getRoomId() ?? room.roomId,
      sender: event.getSender() ?? "",
      type: event.getType(),
      origin_server_ts: event.getTs(),
      content: (raw.content ?? {}) as Record<string, unknown>,
    };
    const stateKey = event.getStateKey();
    if (stateKey !== undefined) out.state_key = stateKey;
    const redacts = event.event.redacts ?? (event.getType() === EventType.RoomRedaction ? (raw.content?.redacts as string | undefined) : undefined);
    if (typeof redacts === "string") out.redacts = redacts;
    if (raw.unsigned) out.unsigned = { ...raw.unsigned } as Record<string, unknown>;
    if (!out.event_id || !out.sender) return;
    try {
      this.options.onEvent(out);
    } catch (err) {
      this.options.log.warn({ err: describe(err), event_id: out.event_id }, "event dispatch threw");
    }
  }

  /** The SDK keeps every live event of a room in memory; drop the old ones now and then. */
  private trimTimelines(): void {
    const client = this.client;
    if (!client) return;
    for (const room of client.getRooms()) {
      try {
        if (room.getLiveTimeline().getEvents().length > (this.options.timelineKeep ?? LIVE_TIMELINE_KEEP)) room.resetLiveTimeline(null, null);
      } catch (err) {
        this.options.log.debug({ err: describe(err), room_id: room.roomId }, "could not trim the timeline");
      }
    }
  }

  memoryStats(): ClientMemoryStats {
    const sizes = (this.client?.getRooms() ?? []).map((r) => r.getLiveTimeline().getEvents().length);
    return { rooms: sizes.length, timeline_events: sizes.reduce((a, b) => a + b, 0), largest_timeline: Math.max(0, ...sizes) };
  }

  // ---- Matrix calls ------------------------------------------------------------------------

  private requireClient(): MatrixClient {
    if (this.fatal) throw new MatrixCallError(`Client ${this.row.id} is stopped: ${this.state.last_error ?? "error"}`, null, null);
    if (!this.client) throw new MatrixCallError(`Client ${this.row.id} is not running`, null, null);
    return this.client;
  }

  private nextTxnId(): string {
    return `botyard.${Date.now().toString(36)}.${(++this.txnCounter).toString(36)}`;
  }

  private async sendRoomEvent(roomId: string, eventType: string, content: Record<string, unknown>): Promise<{ eventId: string }> {
    const client = this.requireClient();
    return this.queue.run(roomId, async () => {
      // One transaction id for all retries, so a retried send after a dropped answer is not duplicated.
      const txnId = this.nextTxnId();
      const crypto = this.cryptoStore ? client.getCrypto() : undefined;
      const encrypted = crypto ? await crypto.isEncryptionEnabledInRoom(roomId) : false;
      const path = `/rooms/${enc(roomId)}/send/${enc(eventType)}/${enc(txnId)}`;
      const metrics = this.options.metrics;
      try {
        const res = encrypted
          ? await this.sendEncrypted(client, roomId, eventType, content, txnId)
          : await withRetry(() => client.http.authedRequest<{ event_id: string }>(Method.Put, path, undefined, content), this.retry());
        metrics?.messageSent(this.row.id);
        return { eventId: res.event_id };
      } catch (err) {
        metrics?.sendFailed(this.row.id);
        throw err;
      }
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
    }, this.retry());
  }

  async call<M extends ClientMethod>(method: M, params: ClientParams<M>): Promise<ClientResult<M>> {
    try {
      return (await this.dispatchCall(method, params)) as ClientResult<M>;
    } catch (err) {
      throw toCallError(err);
    }
  }

  private async dispatchCall(method: ClientMethod, params: unknown): Promise<unknown> {
    switch (method) {
      case "sendText": {
        const p = params as ClientParams<"sendText">;
        return this.sendRoomEvent(p.roomId, "m.room.message", buildMessageContent({ body: p.text }, p));
      }
      case "sendMarkdown": {
        const p = params as ClientParams<"sendMarkdown">;
        return this.sendRoomEvent(p.roomId, "m.room.message", buildMessageContent({ body: p.markdown, html: renderMarkdown(p.markdown) }, p));
      }
      case "sendHtml": {
        const p = params as ClientParams<"sendHtml">;
        return this.sendRoomEvent(p.roomId, "m.room.message", buildMessageContent({ body: p.text, html: sanitizeMatrixHtml(p.html) }, p));
      }
      case "sendEvent": {
        const p = params as ClientParams<"sendEvent">;
        return this.sendRoomEvent(p.roomId, p.eventType, withDefaultMentions(p.content));
      }
      case "react": {
        const p = params as ClientParams<"react">;
        return this.sendRoomEvent(p.roomId, "m.reaction", {
          "m.relates_to": { rel_type: "m.annotation", event_id: p.eventId, key: p.key },
        });
      }
      case "redact": {
        const p = params as ClientParams<"redact">;
        const client = this.requireClient();
        return this.queue.run(p.roomId, async () => {
          const path = `/rooms/${enc(p.roomId)}/redact/${enc(p.eventId)}/${enc(this.nextTxnId())}`;
          const body = p.reason ? { reason: p.reason } : {};
          const res = await withRetry(() => client.http.authedRequest<{ event_id: string }>(Method.Put, path, undefined, body), this.retry());
          return { eventId: res.event_id };
        });
      }
      case "uploadMedia": {
        const p = params as ClientParams<"uploadMedia">;
        const client = this.requireClient();
        if (await this.encryptsFor(client, p.roomId)) {
          const { ciphertext, keys } = encryptAttachment(p.data);
          const contentUri = await this.upload(client, new Blob([ciphertext as Uint8Array<ArrayBuffer>]), ENCRYPTED_MEDIA_TYPE);
          return { contentUri, file: { url: contentUri, ...keys } };
        }
        const blob = new Blob([p.data as Uint8Array<ArrayBuffer>], { type: p.contentType });
        return { contentUri: await this.upload(client, blob, p.contentType, p.filename) };
      }
      case "uploadMediaFile": {
        const p = params as ClientParams<"uploadMediaFile">;
        const client = this.requireClient();
        const blob = await openUploadFile(p.path, p.contentType);
        if (await this.encryptsFor(client, p.roomId)) {
          return withEncryptedFile(p.path, async (encrypted, keys) => {
            const contentUri = await this.upload(client, await openAsBlob(encrypted), ENCRYPTED_MEDIA_TYPE);
            return { contentUri, file: { url: contentUri, ...keys } };
          });
        }
        return { contentUri: await this.upload(client, blob, p.contentType, p.filename) };
      }
      case "getStateEvent": {
        const p = params as ClientParams<"getStateEvent">;
        return this.getState(p.roomId, p.eventType, p.stateKey ?? "");
      }
      case "getPowerLevels": {
        const p = params as ClientParams<"getPowerLevels">;
        const content = await this.getState(p.roomId, "m.room.power_levels", "");
        let creator: string | null = null;
        if (content === null) {
          const create = await this.getState(p.roomId, "m.room.create", "");
          creator = typeof create?.creator === "string" ? create.creator : null;
        }
        return powerLevelsWithDefaults(content, creator);
      }
      case "getJoinedRooms": {
        const client = this.requireClient();
        const res = await withRetry(() => client.http.authedRequest<{ joined_rooms: string[] }>(Method.Get, "/joined_rooms"), this.retry());
        return { roomIds: res.joined_rooms };
      }
      case "join": {
        const p = params as ClientParams<"join">;
        const client = this.requireClient();
        const res = await withRetry(
          () => client.http.authedRequest<{ room_id: string }>(Method.Post, `/join/${enc(p.roomIdOrAlias)}`, undefined, {}),
          this.retry(),
        );
        return { roomId: res.room_id };
      }
      case "leave": {
        const p = params as ClientParams<"leave">;
        const client = this.requireClient();
        await withRetry(() => client.http.authedRequest(Method.Post, `/rooms/${enc(p.roomId)}/leave`, undefined, {}), this.retry());
        return {};
      }
      default:
        throw new MatrixCallError(`Unknown client method ${String(method)}`, null, null);
    }
  }

  /** Media for this room must be encrypted (the room is, and encryption runs). */
  private async encryptsFor(client: MatrixClient, roomId: string | undefined): Promise<boolean> {
    const crypto = this.cryptoStore ? client.getCrypto() : undefined;
    return typeof roomId === "string" && crypto !== undefined && (await crypto.isEncryptionEnabledInRoom(roomId));
  }

  /** Uploads to the media repository; an encrypted attachment goes without its name (the event carries it, encrypted). */
  private async upload(client: MatrixClient, blob: Blob, contentType: string, filename?: string): Promise<string> {
    const res = await withRetry(() => client.uploadContent(blob, { type: contentType, name: filename, includeFilename: Boolean(filename) }), this.retry());
    return res.content_uri;
  }

  private async getState(roomId: string, eventType: string, stateKey: string): Promise<Record<string, unknown> | null> {
    const client = this.requireClient();
    const path = `/rooms/${enc(roomId)}/state/${enc(eventType)}/${enc(stateKey)}`;
    try {
      return await withRetry(() => client.http.authedRequest<Record<string, unknown>>(Method.Get, path), this.retry());
    } catch (err) {
      if (err instanceof MatrixError && err.errcode === "M_NOT_FOUND") return null;
      throw err;
    }
  }
}

/**
 * The SDK's fetch, timing each /sync (the long poll every bot keeps open) and counting the
 * homeserver's 429 answers to it; other requests pass through untouched.
 */
function timedSyncFetch(bot: string, metrics: BotMetricsRecorder): typeof fetch {
  return async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (!/\/_matrix\/client\/[^/]+\/sync(\?|$)/.test(url)) return fetch(input, init);
    const started = performance.now();
    try {
      const res = await fetch(input, init);
      metrics.syncRequest(bot, (performance.now() - started) / 1000, res.ok);
      if (res.status === 429) metrics.rateLimited(bot);
      return res;
    } catch (err) {
      metrics.syncRequest(bot, (performance.now() - started) / 1000, false);
      throw err;
    }
  };
}
