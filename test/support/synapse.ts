// Helpers every e2e test uses to talk to the real Synapse of ../shared/homeserver/synapse.sh:
// its URL, its registration secret and tokens, random accounts, and a bare matrix-js-sdk
// "user" client that creates rooms, sends, and waits for events. Every wait is bounded.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  ClientEvent,
  createClient,
  MemoryStore,
  RoomEvent,
  SyncState,
  type MatrixClient,
  type MatrixEvent as SdkEvent,
} from "matrix-js-sdk";
import { logger as sdkRootLogger, type Logger as SdkLogger } from "matrix-js-sdk/lib/logger.js";
import type { MatrixEvent } from "@botyard/sdk";
import { registerWithSharedSecret, type AccountCredentials } from "../../packages/host/src/matrix/accounts.js";
import type { ClientRow } from "../../packages/host/src/store/types.js";

/** The homeserver e2e tests use (Synapse on 8008 unless BOTYARD_TEST_HS says otherwise). */
export const HS_URL = (process.env.BOTYARD_TEST_HS ?? "http://127.0.0.1:8008").replace(/\/+$/, "");

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** The shared homeserver script, beside the repository (works from a clean clone next to shared/). */
export const SYNAPSE_SH = path.resolve(repoRoot, "../shared/homeserver/synapse.sh");

const noop = (): void => undefined;
const silentSdkLogger: SdkLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, getChild: () => silentSdkLogger };
(sdkRootLogger as unknown as { setLevel?: (l: string) => void }).setLevel?.("silent");

export function portOf(hs: string = HS_URL): number {
  const url = new URL(hs);
  return Number(url.port || (url.protocol === "https:" ? 443 : 80));
}

/** Runs synapse.sh with the given arguments and returns its trimmed stdout. */
export function synapseSh(args: string[], timeoutMs = 180_000): string {
  return execFileSync(SYNAPSE_SH, args, { encoding: "utf8", timeout: timeoutMs, stdio: ["ignore", "pipe", "pipe"] }).trim();
}

const secrets = new Map<number, string>();

/** The homeserver's registration_shared_secret. */
export function sharedSecret(hs: string = HS_URL): string {
  const port = portOf(hs);
  let secret = secrets.get(port);
  if (!secret) {
    secret = synapseSh(["secret", String(port)]);
    if (!secret) throw new Error(`synapse.sh secret ${port} printed nothing; is that homeserver configured?`);
    secrets.set(port, secret);
  }
  return secret;
}

/** A fresh single-use registration token (needs the admin API, done by synapse.sh). */
export function registrationToken(hs: string = HS_URL): string {
  const token = synapseSh(["token", String(portOf(hs))]);
  if (!token) throw new Error("synapse.sh token printed nothing");
  return token;
}

/** A unique, valid Matrix localpart. */
export function randomLocalpart(prefix = "user"): string {
  return `${prefix}${Date.now().toString(36)}${randomBytes(4).toString("hex")}`.toLowerCase();
}

export interface TestAccount extends AccountCredentials {
  password: string;
  localpart: string;
}

/** Registers a random account with the shared secret. */
export async function registerUser(prefix = "user", hs: string = HS_URL, options: { admin?: boolean } = {}): Promise<TestAccount> {
  const localpart = randomLocalpart(prefix);
  const password = `pw-${randomBytes(12).toString("hex")}`;
  const creds = await registerWithSharedSecret(hs, sharedSecret(hs), localpart, password, { admin: options.admin, userType: null });
  return { ...creds, password, localpart };
}

/** A client row for the pool, as the store would hold it. */
export function clientRowFor(account: AccountCredentials, hs: string = HS_URL, overrides: Partial<ClientRow> = {}): ClientRow {
  return {
    id: account.user_id,
    homeserver: hs,
    access_token: account.access_token,
    device_id: account.device_id,
    enabled: true,
    next_batch: "",
    filter_id: "",
    sync: true,
    autojoin: true,
    online: false,
    displayname: "disable",
    avatar_url: "disable",
    ...overrides,
  };
}

/** Polls `condition` until it is true; throws after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function plain(event: SdkEvent): MatrixEvent {
  const raw = event.getEffectiveEvent();
  return {
    event_id: event.getId() ?? "",
    room_id: event.getRoomId() ?? "",
    sender: event.getSender() ?? "",
    type: event.getType(),
    origin_server_ts: event.getTs(),
    content: (raw.content ?? {}) as Record<string, unknown>,
    ...(event.getStateKey() !== undefined ? { state_key: event.getStateKey() } : {}),
    ...(raw.redacts ? { redacts: raw.redacts as string } : {}),
  };
}

/** A bare matrix-js-sdk client for `account`, logging nothing, with no timeline or crypto store. */
export function createQuietClient(account: AccountCredentials, hs: string = HS_URL, fetchFn?: typeof fetch): MatrixClient {
  return createClient({
    ...(fetchFn ? { fetchFn } : {}),
    baseUrl: hs,
    accessToken: account.access_token,
    userId: account.user_id,
    deviceId: account.device_id,
    store: new MemoryStore(),
    timelineSupport: false,
    logger: silentSdkLogger,
  });
}

/**
 * Starts `client` syncing and resolves after its first sync (rejects after `firstSyncTimeoutMs`).
 * Listeners that must see every live event go on before this is called.
 */
export async function startSyncing(client: MatrixClient, firstSyncTimeoutMs = 30_000): Promise<void> {
  const prepared = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${client.getUserId()}: first sync took over ${firstSyncTimeoutMs / 1000} s`)),
      firstSyncTimeoutMs,
    );
    client.on(ClientEvent.Sync, (state: SyncState) => {
      if (state === SyncState.Prepared || state === SyncState.Syncing) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const started = client.startClient({ initialSyncLimit: 1, lazyLoadMembers: true, disablePresence: true, threadSupport: false });
  // No calls in tests: keep the MatrixRTC session manager (and its console logging) off.
  const rtcStarter = (client as unknown as { startMatrixRTC?: unknown }).startMatrixRTC;
  if (rtcStarter) client.off(ClientEvent.Sync, rtcStarter as never);
  await started;
  await prepared;
}

export interface TestUserOptions {
  /** Run matrix-js-sdk's Rust crypto (in memory). */
  encrypted?: boolean;
  /** The client's fetch (a test that holds back some requests). */
  fetchFn?: typeof fetch;
}

/**
 * A human-like user on a bare matrix-js-sdk client: syncs, creates rooms, sends, and collects
 * every live timeline event (from rooms it is in) for `waitForEvent`.
 */
export class TestUser {
  readonly events: MatrixEvent[] = [];
  /** Ids of the collected events that arrived encrypted (and were decrypted). */
  readonly encryptedIds = new Set<string>();
  private waiters: Array<() => void> = [];

  private constructor(
    readonly account: TestAccount,
    readonly client: MatrixClient,
  ) {}

  get userId(): string {
    return this.account.user_id;
  }

  /** Registers a random account and starts syncing (resolves after the first sync). */
  static async create(prefix = "user", hs: string = HS_URL, options: TestUserOptions = {}): Promise<TestUser> {
    const account = await registerUser(prefix, hs);
    return TestUser.fromAccount(account, hs, options);
  }

  /** With `encrypted`, the client runs matrix-js-sdk's Rust crypto (in memory) and decrypts what it collects. */
  static async fromAccount(account: TestAccount, hs: string = HS_URL, options: TestUserOptions = {}): Promise<TestUser> {
    const client = createQuietClient(account, hs, options.fetchFn);
    if (options.encrypted) await client.initRustCrypto({ useIndexedDB: false });
    const user = new TestUser(account, client);
    client.on(RoomEvent.Timeline, async (event, room, toStart, removed) => {
      if (toStart || removed || !room || !client.isInitialSyncComplete()) return;
      if (event.status !== null) return; // local echo; the real event follows from sync
      if (event.isEncrypted()) {
        await client.decryptEventIfNeeded(event);
        if (event.isDecryptionFailure()) return;
        user.encryptedIds.add(event.getId() ?? "");
      }
      user.events.push(plain(event));
      const waiters = user.waiters;
      user.waiters = [];
      for (const w of waiters) w();
    });
    await startSyncing(client);
    return user;
  }

  /** Creates a private room, inviting the given users. */
  async createRoom(invite: string[] = [], name?: string): Promise<string> {
    const res = await this.client.createRoom({ invite, name, preset: "private_chat" as never });
    return res.room_id;
  }

  /** Creates a private room with encryption on (m.megolm.v1.aes-sha2), inviting the given users. */
  async createEncryptedRoom(invite: string[] = []): Promise<string> {
    const res = await this.client.createRoom({
      invite,
      preset: "private_chat" as never,
      initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
    });
    return res.room_id;
  }

  async invite(roomId: string, userId: string): Promise<void> {
    await this.client.invite(roomId, userId);
  }

  async join(roomIdOrAlias: string): Promise<void> {
    await this.client.joinRoom(roomIdOrAlias);
  }

  /** Sends a plain m.text message and returns its event id. */
  async send(roomId: string, text: string): Promise<string> {
    return this.sendContent(roomId, "m.room.message", { msgtype: "m.text", body: text, "m.mentions": {} });
  }

  /** Sends any event; it is also recorded in `events` (the SDK turns its own echo into no new event). */
  async sendContent(roomId: string, eventType: string, content: Record<string, unknown>): Promise<string> {
    const res = await this.client.sendEvent(roomId, eventType as never, content as never);
    if (!this.events.some((e) => e.event_id === res.event_id)) {
      this.events.push({ event_id: res.event_id, room_id: roomId, sender: this.userId, type: eventType, origin_server_ts: Date.now(), content });
      for (const w of this.waiters.splice(0)) w();
    }
    return res.event_id;
  }

  /** The first collected event matching `match`, waiting up to `timeoutMs` for it. */
  async waitForEvent(match: (e: MatrixEvent) => boolean, timeoutMs = 20_000, what = "a matching event"): Promise<MatrixEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.userId}: timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits until `userId` has joined `roomId` (as this user's sync sees it). */
  async waitForJoin(roomId: string, userId: string, timeoutMs = 20_000): Promise<void> {
    await this.waitForEvent(
      (e) => e.room_id === roomId && e.type === "m.room.member" && e.state_key === userId && e.content.membership === "join",
      timeoutMs,
      `${userId} to join ${roomId}`,
    );
  }

  stop(): void {
    this.client.stopClient();
    this.client.removeAllListeners();
  }
}

/** A message event replying to `eventId` (rich reply relation). */
export function isReplyTo(eventId: string): (e: MatrixEvent) => boolean {
  return (e) => {
    const rel = e.content["m.relates_to"] as { "m.in_reply_to"?: { event_id?: string } } | undefined;
    return e.type === "m.room.message" && rel?.["m.in_reply_to"]?.event_id === eventId;
  };
}
