// All bot accounts of the host: one BotClient per client row, room events fanned out to the
// instances (RoomEventSink), plugin calls run with the right account (ClientCaller), and the
// host-level `!help`.
import type { BotMetricsRecorder } from "../metrics/recorder.js";
import type { Logger } from "pino";
import type { ClientMethod, ClientParams, ClientResult, MatrixEvent } from "@botyard/sdk";
import type { ClientCaller, RoomEventSink } from "../ports.js";
import type { ClientRow } from "../store/types.js";
import { clientLogger } from "../logging/logging.js";
import { BotClient, type ClientStatus } from "./bot-client.js";
import type { EncryptionOptions } from "./bot-encryption.js";
import { MatrixCallError } from "./call-errors.js";
import { removeCryptoStore } from "./crypto/crypto-store.js";
import type { TrustState } from "./crypto/verification.js";
import { HostError } from "../errors.js";
import { helpIsTaken, isHelpRequest, renderHelp } from "./help-command.js";
import { LongPoll } from "./long-poll.js";
import type { RetryPolicy } from "./request-retry.js";
import { quietSdkRootLogger } from "./sdk-logger.js";
import type { ClientMemoryStats } from "./timeline-trim.js";

export type { ClientStatus } from "./bot-client.js";
export type { ClientMemoryStats } from "./timeline-trim.js";

/** Where startAll() reads the client rows (HostStore satisfies it). */
export interface ClientRowSource {
  listClients(): ClientRow[] | Promise<ClientRow[]>;
}

export interface ClientPoolOptions {
  logger: Logger;
  /**
   * Receives the room events (the instances; createHost hands it a forwarder, since the supervisor
   * is built after the pool). null: a pool only for calls, whose room events nobody receives.
   */
  sink: RoomEventSink | null;
  rows?: ClientRowSource;
  /** Timeline events per room in each sync response (default 10). */
  timelineLimit?: number;
  /** How long an idle /sync waits at the homeserver (default 55 s, long-poll.ts). */
  longPollMs?: number;
  retry?: RetryPolicy;
  /** Longest wait between start attempts while a homeserver is unreachable (default 60 s). */
  maxStartBackoffMs?: number;
  /** Live timeline events kept per room between sweeps (default 50) and the sweep period (default 60 s). */
  timelineKeep?: number;
  sweepIntervalMs?: number;
  metrics?: BotMetricsRecorder;
  /** End-to-end encryption for the clients that sync; null or absent: off. */
  encryption?: EncryptionOptions | null;
}

const STOPPED: ClientStatus = {
  started: false,
  sync_ok: false,
  remote_displayname: null,
  remote_avatar_url: null,
  last_error: null,
  device_id: null,
  trust_state: null,
  fingerprint: null,
};

export class ClientPool implements ClientCaller {
  private readonly clients = new Map<string, BotClient>();
  private readonly sink: RoomEventSink | null;
  /** By homeserver URL: a proxy in front of one cuts the long polls of all its accounts alike. */
  private readonly longPolls = new Map<string, LongPoll>();

  constructor(private readonly options: ClientPoolOptions) {
    this.sink = options.sink;
    quietSdkRootLogger();
  }

  /** Starts every enabled client row. Does not wait for homeservers that are down. */
  async startAll(rows?: ClientRow[]): Promise<void> {
    const list = rows ?? (this.options.rows ? await this.options.rows.listClients() : []);
    await Promise.all(list.map((row) => this.start(row)));
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.clients.keys()].map((id) => this.stop(id)));
  }

  /**
   * Starts (or restarts) one client. Resolves after its first attempt; an unreachable
   * homeserver keeps being retried in the background. A disabled row is only registered.
   */
  async start(row: ClientRow): Promise<void> {
    const existing = this.clients.get(row.id);
    if (existing) await existing.stop();
    const client = new BotClient(row, {
      log: clientLogger(this.options.logger, row.id),
      onEvent: (event) => this.onEvent(row.id, event),
      timelineLimit: this.options.timelineLimit,
      longPoll: this.longPollOf(row.homeserver),
      retry: this.options.retry,
      maxStartBackoffMs: this.options.maxStartBackoffMs,
      timelineKeep: this.options.timelineKeep,
      sweepIntervalMs: this.options.sweepIntervalMs,
      metrics: this.options.metrics,
      encryption: this.options.encryption,
    });
    this.clients.set(row.id, client);
    if (row.enabled) await client.start();
  }

  /** Stops and forgets a client (after it was deleted or disabled). */
  async stop(id: string): Promise<void> {
    const client = this.clients.get(id);
    if (!client) return;
    this.clients.delete(id);
    await client.stop();
  }

  /** Stops a client and removes its crypto store: the account was deleted. */
  async remove(id: string): Promise<void> {
    await this.stop(id);
    if (this.options.encryption) await removeCryptoStore(this.options.encryption.storeDir, id);
  }

  /** Applies a changed row: restarts when the connection changed, else updates in place. */
  async update(row: ClientRow): Promise<void> {
    const client = this.clients.get(row.id);
    if (!client || client.needsRestart(row) || (row.enabled && !client.status().started)) {
      await this.start(row);
      return;
    }
    await client.applyLive(row);
  }

  /** maubot's clearcache: drop the in-memory sync state and sync from scratch. */
  async clearCache(id: string): Promise<void> {
    const client = this.clients.get(id);
    if (!client) return;
    await this.start(client.config);
  }

  status(id: string): ClientStatus {
    return this.clients.get(id)?.status() ?? { ...STOPPED };
  }

  /** maubot 0.6's generate_recovery_key for a running client with encryption on. */
  generateRecoveryKey(id: string): Promise<string> {
    return this.requireClient(id).generateRecoveryKey();
  }

  /** maubot 0.6's verify: the client's device verified with the account's recovery key. */
  verifyWithRecoveryKey(id: string, recoveryKey: string): Promise<TrustState> {
    return this.requireClient(id).verifyWithRecoveryKey(recoveryKey);
  }

  private longPollOf(homeserver: string): LongPoll {
    const key = homeserver.replace(/\/+$/, "");
    let longPoll = this.longPolls.get(key);
    if (!longPoll) this.longPolls.set(key, (longPoll = new LongPoll({ waitMs: this.options.longPollMs, log: this.options.logger.child({ homeserver: key }) })));
    return longPoll;
  }

  private requireClient(id: string): BotClient {
    const client = this.clients.get(id);
    if (!client) throw new HostError("client_encryption_off", `Client ${id} is not running: enable and start it first`);
    return client;
  }

  /** Rooms and live timeline events the SDK holds for a client (null when unknown). */
  memoryStats(id: string): ClientMemoryStats | null {
    return this.clients.get(id)?.memoryStats() ?? null;
  }

  has(id: string): boolean {
    return this.clients.has(id);
  }

  /** Resolves true once the client is started and synced (or started, with sync off). */
  async whenReady(id: string, timeoutMs: number): Promise<boolean> {
    const client = this.clients.get(id);
    return client ? client.whenReady(timeoutMs) : false;
  }

  async call<M extends ClientMethod>(clientId: string, method: M, params: ClientParams<M>): Promise<ClientResult<M>> {
    const client = this.clients.get(clientId);
    if (!client) throw new MatrixCallError(`Client ${clientId} is not running`, null, null);
    return client.call(method, params);
  }

  private onEvent(clientId: string, event: MatrixEvent): void {
    const sink = this.sink;
    if (!sink) return;
    sink.dispatch(clientId, event);
    if (event.type === "m.room.message" && isHelpRequest(event.content.body)) {
      void this.answerHelp(clientId, event, sink);
    }
  }

  private async answerHelp(clientId: string, event: MatrixEvent, sink: RoomEventSink): Promise<void> {
    const log = clientLogger(this.options.logger, clientId);
    try {
      const list = await sink.commandsOf(clientId);
      if (helpIsTaken(list)) return;
      await this.call(clientId, "sendMarkdown", {
        roomId: event.room_id,
        markdown: renderHelp(list),
        msgtype: "m.notice",
        replyTo: event.event_id,
      });
    } catch (err) {
      log.warn({ err: err instanceof Error ? err.message : String(err), room_id: event.room_id }, "could not answer !help");
    }
  }
}
