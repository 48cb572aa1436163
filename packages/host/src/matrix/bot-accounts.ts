// Bot accounts as the operator manages them (maubot's client.py and client_auth.py): add or
// change one (a new access token is checked with the homeserver first), delete one no instance
// uses, clear one's sync cache, register or log in an account on a configured homeserver. Each
// change is stored and then applied to the running client. Refusals are HostErrors with
// maubot's errcodes; the API routes only parse requests and shape answers.
import type { Logger } from "pino";
import type { HomeserverConfig } from "../config/index.js";
import { HostError } from "../errors.js";
import type { ClientRow } from "../store/types.js";
import type * as homeserverCalls from "./accounts.js";
import type { AccountCredentials } from "./accounts.js";
import type { ClientPool } from "./client-pool.js";

/** The homeserver calls of accounts.ts the service makes (tests may hand in their own). */
export type AccountCalls = Pick<typeof homeserverCalls, "whoami" | "registerWithSharedSecret" | "registerWithToken" | "loginWithPassword">;

/** What an operator may set on an account; an absent field keeps the stored value (or the default). */
export interface ClientSettings {
  homeserver?: string | undefined;
  access_token?: string | undefined;
  device_id?: string | undefined;
  enabled?: boolean | undefined;
  /** false stops the running client without disabling the account (maubot's `started`). */
  started?: boolean | undefined;
  sync?: boolean | undefined;
  autojoin?: boolean | undefined;
  online?: boolean | undefined;
  displayname?: string | undefined;
  avatar_url?: string | undefined;
}

/** The account rows (HostStore satisfies it). */
export interface BotAccountRows {
  getClient(id: string): ClientRow | undefined;
  putClient(row: ClientRow): void;
  deleteClient(id: string): unknown;
  instancesOfClient(id: string): Array<{ id: string }>;
}

export interface BotAccountsOptions {
  rows: BotAccountRows;
  clients: Pick<ClientPool, "start" | "stop" | "update" | "remove" | "clearCache">;
  /** Throw AccountError with the errcode to answer when the homeserver refuses. */
  accounts: AccountCalls;
  /** The config's `homeservers`, by name: where accounts may be registered or logged in. */
  homeservers: Record<string, HomeserverConfig>;
  log: Logger;
}

/** maubot's text, then what was asked, what exists and where a new name goes. */
function unknownServerMessage(asked: string, configured: string[]): string {
  const names = configured.length ? `the configured ones are ${configured.map((n) => JSON.stringify(n)).join(", ")}` : "none is configured";
  return (
    `Registration target server not found: ${JSON.stringify(asked.slice(0, 100))} is not a homeserver name of this botyard (${names}). ` +
    "Add it under `homeservers:` in the config (url, and secret or registration_token) and restart botyard."
  );
}

export class BotAccounts {
  constructor(private readonly options: BotAccountsOptions) {}

  /**
   * Creates or updates an account. `expectedId` is the user id the caller names (PUT
   * /client/{id}, a login), or null when the token alone says who it is (POST /client/new).
   */
  async save(settings: ClientSettings, expectedId: string | null): Promise<{ row: ClientRow; created: boolean }> {
    const { rows, clients, log } = this.options;
    const existing = expectedId ? rows.getClient(expectedId) : undefined;
    const homeserver = settings.homeserver ?? existing?.homeserver;
    const accessToken = settings.access_token ?? existing?.access_token;
    if (!homeserver) throw new HostError("bad_client_connection_details", "homeserver is required");
    if (!accessToken) throw new HostError("bad_client_access_token", "access_token is required");
    // maubot's UI sends the whole client object on every edit; only new access details are checked.
    const unchanged = existing && homeserver === existing.homeserver && accessToken === existing.access_token;
    const { userId, deviceId } = unchanged
      ? { userId: existing.id, deviceId: settings.device_id ?? existing.device_id }
      : await this.checkToken(homeserver, accessToken, expectedId, existing?.device_id ?? "", settings.device_id);
    if (!existing && expectedId === null && rows.getClient(userId)) {
      throw new HostError("user_exists", `There is already a client with the user ID ${userId}`);
    }
    const row: ClientRow = {
      id: userId,
      homeserver,
      access_token: accessToken,
      device_id: deviceId,
      enabled: settings.enabled ?? existing?.enabled ?? true,
      // maubot's sync state, never read (see ClientRow): carried as stored, cleared by clearCache.
      next_batch: existing?.next_batch ?? "",
      filter_id: existing?.filter_id ?? "",
      sync: settings.sync ?? existing?.sync ?? true,
      autojoin: settings.autojoin ?? existing?.autojoin ?? true,
      online: settings.online ?? existing?.online ?? true,
      displayname: settings.displayname ?? existing?.displayname ?? "disable",
      avatar_url: settings.avatar_url ?? existing?.avatar_url ?? "disable",
    };
    rows.putClient(row);
    if (!existing) {
      await clients.start(row);
      log.info({ client: row.id }, `added client ${row.id}`);
    } else if (settings.started === false || !row.enabled) {
      await clients.stop(row.id);
    } else {
      await clients.update(row);
    }
    return { row, created: !existing };
  }

  /** Whose token it is, refused when it is not the user or device the caller named. */
  private async checkToken(
    homeserver: string,
    accessToken: string,
    expectedId: string | null,
    knownDeviceId: string,
    askedDeviceId: string | undefined,
  ): Promise<{ userId: string; deviceId: string }> {
    const who = await this.options.accounts.whoami(homeserver, accessToken);
    if (expectedId !== null && who.user_id !== expectedId) {
      throw new HostError("mxid_mismatch", `The access token belongs to ${who.user_id}, not ${expectedId}`);
    }
    if (askedDeviceId && who.device_id && askedDeviceId !== who.device_id) {
      throw new HostError("mxid_mismatch", `The access token belongs to device ${who.device_id}, not ${askedDeviceId}`);
    }
    return { userId: who.user_id, deviceId: askedDeviceId ?? (who.device_id || knownDeviceId) };
  }

  /** The configured homeserver `name`; server_not_found says which names exist. */
  server(name: string): HomeserverConfig {
    const { homeservers } = this.options;
    const hs = Object.hasOwn(homeservers, name) ? homeservers[name] : undefined;
    if (!hs) throw new HostError("server_not_found", unknownServerMessage(name, Object.keys(homeservers)));
    return hs;
  }

  /** The configured homeserver `name`, refused when it has neither a secret nor a registration token. */
  registrationServer(name: string): HomeserverConfig {
    const hs = this.server(name);
    if (!hs.secret && !hs.registration_token) {
      throw new HostError("registration_secret_not_found", "No registration secret or token configured for this server");
    }
    return hs;
  }

  /**
   * A new account on a registration server: Synapse's shared-secret registration when the
   * entry has a `secret`, else registration-token sign-up. `userType` null registers a regular user.
   */
  async register(hs: HomeserverConfig, username: string, password: string, userType: string | null): Promise<AccountCredentials> {
    const { accounts, log } = this.options;
    const creds = hs.secret
      ? await accounts.registerWithSharedSecret(hs.url, hs.secret, username, password, { userType })
      : await accounts.registerWithToken(hs.url, hs.registration_token ?? "", username, password);
    log.info({ user: creds.user_id }, `registered bot account ${creds.user_id}`);
    return creds;
  }

  /** A new access token (and device) for an existing account, by password. */
  login(hs: HomeserverConfig, username: string, password: string, deviceName: string | undefined): Promise<AccountCredentials> {
    return this.options.accounts.loginWithPassword(hs.url, username, password, { deviceName });
  }

  /** Stores new credentials as the account's client (`?update_client`). */
  saveCredentials(hs: HomeserverConfig, creds: AccountCredentials): Promise<{ row: ClientRow; created: boolean }> {
    return this.save({ homeserver: hs.url, access_token: creds.access_token, device_id: creds.device_id }, creds.user_id);
  }

  /** Deletes an account and its crypto store; refused while instances use it. */
  async remove(row: ClientRow): Promise<void> {
    const users = this.options.rows.instancesOfClient(row.id);
    if (users.length > 0) {
      throw new HostError("client_in_use", `Client ${row.id} is used by instances ${users.map((i) => i.id).join(", ")}; delete them first`);
    }
    await this.options.clients.remove(row.id);
    this.options.rows.deleteClient(row.id);
    this.options.log.info({ client: row.id }, `deleted client ${row.id}`);
  }

  /** maubot's clearcache: forget the sync state and sync from scratch. */
  async clearCache(row: ClientRow): Promise<void> {
    this.options.rows.putClient({ ...row, next_batch: "", filter_id: "" });
    await this.options.clients.clearCache(row.id);
  }
}
