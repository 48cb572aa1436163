// The four ways an operator adds a bot account (maubot's client_auth routes): an existing
// access token (`whoami`), Synapse's shared-secret admin registration, registration-token
// user-interactive auth (conduwuit, continuwuity, Synapse with `registration_requires_token`),
// and password login. Plain fetch: no client object is needed for one-shot calls.
import { createHmac, randomBytes } from "node:crypto";
import type { ErrCode } from "../errors.js";

export interface AccountCredentials {
  user_id: string;
  access_token: string;
  device_id: string;
  /** Server name (the part of the user id after the first ":"). */
  home_server: string;
}

/** A failed account call: `errcode` is the management API's, `matrixErrcode` the homeserver's. */
export class AccountError extends Error {
  constructor(
    readonly errcode: ErrCode,
    message: string,
    readonly matrixErrcode?: string,
    readonly httpStatus?: number,
  ) {
    super(message);
    this.name = "AccountError";
  }
}

const REQUEST_TIMEOUT_MS = 30_000;
/** User-interactive auth stages registerWithToken can complete. */
const SUPPORTED_STAGES = new Set(["m.login.registration_token", "m.login.dummy"]);
const RATE_LIMIT_RETRIES = 5;

interface MatrixResponse {
  status: number;
  body: Record<string, unknown>;
}

export function normalizeHomeserverUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    throw new AccountError("bad_client_connection_details", `Invalid homeserver URL: ${url}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new AccountError("bad_client_connection_details", `Homeserver URL must be http or https: ${url}`);
  }
  return parsed.toString().replace(/\/+$/, "");
}

async function request(
  hs: string,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
  accessToken?: string,
): Promise<MatrixResponse> {
  const url = normalizeHomeserverUrl(hs) + path;
  for (let attempt = 0; ; attempt++) {
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      const reason = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
      throw new AccountError("bad_client_connection_details", `Could not reach the homeserver at ${hs}: ${reason}`);
    }
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      const value: unknown = text ? JSON.parse(text) : {};
      if (value && typeof value === "object" && !Array.isArray(value)) parsed = value as Record<string, unknown>;
    } catch {
      if (!res.ok) {
        throw new AccountError("bad_client_connection_details", `Homeserver at ${hs} answered HTTP ${res.status} without JSON`, undefined, res.status);
      }
      throw new AccountError("bad_client_connection_details", `Homeserver at ${hs} answered with invalid JSON`, undefined, res.status);
    }
    if (parsed.errcode === "M_LIMIT_EXCEEDED" && attempt < RATE_LIMIT_RETRIES) {
      const wait = typeof parsed.retry_after_ms === "number" ? parsed.retry_after_ms : 1000 * 2 ** attempt;
      await new Promise((r) => setTimeout(r, Math.min(wait, 30_000)));
      continue;
    }
    return { status: res.status, body: parsed };
  }
}

function matrixFailure(res: MatrixResponse, errcode: ErrCode, what: string): AccountError {
  const mx = typeof res.body.errcode === "string" ? res.body.errcode : undefined;
  const text = typeof res.body.error === "string" ? res.body.error : `HTTP ${res.status}`;
  const code: ErrCode = mx === "M_USER_IN_USE" ? "user_exists" : mx === "M_LIMIT_EXCEEDED" ? "rate_limited" : errcode;
  return new AccountError(code, `${what}: ${text}${mx ? ` (${mx})` : ""}`, mx, res.status);
}

function serverNameOf(userId: string): string {
  const i = userId.indexOf(":");
  return i < 0 ? "" : userId.slice(i + 1);
}

function credentialsFrom(res: MatrixResponse, what: string, token?: string): AccountCredentials {
  const { user_id, access_token, device_id } = res.body;
  const accessToken = token ?? access_token;
  if (typeof user_id !== "string" || typeof accessToken !== "string") {
    throw new AccountError("bad_client_access_details", `${what}: the homeserver's answer has no user_id or access_token`);
  }
  const homeServer = typeof res.body.home_server === "string" ? res.body.home_server : serverNameOf(user_id);
  return { user_id, access_token: accessToken, device_id: typeof device_id === "string" ? device_id : "", home_server: homeServer };
}

/** A device id/name like maubot's (`maubot_` + 8 of [A-Z0-9]). */
export function newDeviceId(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  const bytes = randomBytes(8);
  let id = "botyard_";
  for (const b of bytes) id += alphabet[b % alphabet.length];
  return id;
}

/** Who an access token belongs to. Throws `bad_client_access_token` when the token is not valid. */
export async function whoami(hs: string, accessToken: string): Promise<AccountCredentials> {
  const res = await request(hs, "GET", "/_matrix/client/v3/account/whoami", undefined, accessToken);
  if (res.status === 401 || res.status === 403) throw matrixFailure(res, "bad_client_access_token", "Invalid access token");
  if (res.status !== 200) throw matrixFailure(res, "bad_client_connection_details", "whoami failed");
  return credentialsFrom(res, "whoami", accessToken);
}

/**
 * Synapse admin API registration with the homeserver's `registration_shared_secret`:
 * a nonce, then `mac = HMAC-SHA1(secret, nonce\0username\0password\0notadmin[\0user_type])`.
 */
export async function registerWithSharedSecret(
  hs: string,
  secret: string,
  username: string,
  password: string,
  options: { admin?: boolean; userType?: string | null } = {},
): Promise<AccountCredentials> {
  if (!username || !password) throw new AccountError("username_or_password_missing", "Username and password are required");
  const nonceRes = await request(hs, "GET", "/_synapse/admin/v1/register");
  if (nonceRes.status !== 200 || typeof nonceRes.body.nonce !== "string") {
    throw matrixFailure(nonceRes, "bad_client_connection_details", "The homeserver does not offer shared-secret registration");
  }
  const nonce = nonceRes.body.nonce;
  const admin = options.admin ?? false;
  const userType = options.userType === undefined ? "bot" : options.userType;
  const mac = createHmac("sha1", secret);
  mac.update(`${nonce}\0${username}\0${password}\0${admin ? "admin" : "notadmin"}`);
  if (userType) mac.update(`\0${userType}`);
  const body: Record<string, unknown> = { nonce, username, password, admin, mac: mac.digest("hex") };
  if (userType) body.user_type = userType;
  const res = await request(hs, "POST", "/_synapse/admin/v1/register", body);
  if (res.status !== 200) throw matrixFailure(res, "bad_client_access_details", "Registration failed");
  return credentialsFrom(res, "Registration");
}

/**
 * Client-server API registration with a registration token: the user-interactive auth flow
 * `m.login.registration_token`, followed by `m.login.dummy` when the server asks for it.
 */
export async function registerWithToken(
  hs: string,
  token: string,
  username: string,
  password: string,
  options: { deviceId?: string } = {},
): Promise<AccountCredentials> {
  if (!username || !password) throw new AccountError("username_or_password_missing", "Username and password are required");
  const deviceId = options.deviceId ?? newDeviceId();
  const base = { username, password, device_id: deviceId, initial_device_display_name: deviceId, inhibit_login: false };
  let res = await request(hs, "POST", "/_matrix/client/v3/register?kind=user", base);
  // Each 401 lists the flows and the stages completed so far; submit the next one.
  // A 401 that carries an errcode after a submission means that stage was refused.
  for (let round = 0; round < 5 && res.status === 401; round++) {
    if (round > 0 && typeof res.body.errcode === "string") {
      throw matrixFailure(res, "bad_client_access_details", "Registration refused");
    }
    const session = typeof res.body.session === "string" ? res.body.session : undefined;
    const flows = Array.isArray(res.body.flows) ? (res.body.flows as Array<{ stages?: unknown }>) : [];
    const completed = Array.isArray(res.body.completed) ? (res.body.completed as string[]) : [];
    const stageLists = flows.map((f) => (Array.isArray(f.stages) ? (f.stages as string[]) : []));
    const flow =
      stageLists.find((s) => s.includes("m.login.registration_token") && s.every((x) => SUPPORTED_STAGES.has(x))) ??
      stageLists.find((s) => s.every((x) => SUPPORTED_STAGES.has(x)));
    if (!flow) {
      const offered = stageLists.map((s) => s.join("+")).join(", ") || "none";
      throw new AccountError("bad_client_access_details", `The homeserver offers no registration flow botyard can complete (flows: ${offered})`);
    }
    const next = flow.find((s) => !completed.includes(s));
    if (next === undefined) break;
    const auth: Record<string, unknown> = next === "m.login.registration_token" ? { type: next, token, session } : { type: next, session };
    res = await request(hs, "POST", "/_matrix/client/v3/register?kind=user", { ...base, auth });
  }
  if (res.status !== 200) throw matrixFailure(res, "bad_client_access_details", "Registration failed");
  return credentialsFrom(res, "Registration");
}

/** Password login with a fresh device `botyard_<random>` (id and display name). */
export async function loginWithPassword(
  hs: string,
  username: string,
  password: string,
  options: { deviceId?: string; deviceName?: string } = {},
): Promise<AccountCredentials> {
  if (!username || !password) throw new AccountError("username_or_password_missing", "Username and password are required");
  const deviceId = options.deviceId ?? newDeviceId();
  const res = await request(hs, "POST", "/_matrix/client/v3/login", {
    type: "m.login.password",
    identifier: { type: "m.id.user", user: username },
    password,
    device_id: deviceId,
    initial_device_display_name: options.deviceName ?? deviceId,
  });
  if (res.status !== 200) throw matrixFailure(res, "bad_client_access_details", "Login failed");
  return credentialsFrom(res, "Login");
}
