// The one typed client of the management API every page uses. Errors come back as ApiCallError
// with the API's errcode and message; a refused token logs the page out with the reason.
import { savedToken, tokenExpired } from "./session.js";
import type {
  AccountLoginResponse,
  ApiErrorBody,
  ClientJson,
  ClientSettings,
  HealthJson,
  HomeserverList,
  InstanceJson,
  InstanceSettings,
  LoginResponse,
  PathsJson,
  PingResponse,
  PluginJson,
  QueryResult,
  TablesResult,
} from "./types.js";

export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
    readonly body: ApiErrorBody | null = null,
  ) {
    super(message);
    this.name = "ApiCallError";
  }
}

let apiPathPromise: Promise<string> | null = null;

/** The API's path, from paths.json next to the page (it follows public_url and ui_base_path). */
export function apiPath(): Promise<string> {
  apiPathPromise ??= fetch(new URL("paths.json", document.baseURI)).then(async (res) => {
    if (!res.ok) throw new ApiCallError(res.status, "paths_unavailable", "The page could not find the API (paths.json failed); reload to try again.");
    return ((await res.json()) as PathsJson).api_path;
  });
  apiPathPromise.catch(() => (apiPathPromise = null));
  return apiPathPromise;
}

function isErrorBody(value: unknown): value is ApiErrorBody {
  return typeof value === "object" && value !== null && typeof (value as ApiErrorBody).errcode === "string";
}

/** Turns a failed answer into an ApiCallError; a refused token also ends the session. */
function failure(status: number, parsed: unknown, fallback: string): ApiCallError {
  const body = isErrorBody(parsed) ? parsed : null;
  const err = new ApiCallError(status, body?.errcode ?? "http_error", body?.error ?? fallback, body);
  if (status === 401 && (err.errcode === "auth_token_invalid" || err.errcode === "auth_token_missing")) {
    tokenExpired("Your session has expired or the token was refused; log in again.");
  }
  return err;
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const base = await apiPath();
  const headers: Record<string, string> = {};
  const token = savedToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiCallError(0, "network_error", "botyard did not answer; is the daemon running and the SSH tunnel open?");
  }
  const parsed = parseJson(await res.text());
  // maubot answers some refusals (plugin_has_no_database, table_not_found) with HTTP 200.
  if (!res.ok || isErrorBody(parsed)) throw failure(res.status, parsed, `${method} ${path} failed with HTTP ${res.status}`);
  return parsed as T;
}

const enc = encodeURIComponent;

export interface UploadOptions {
  allowOverride: boolean;
  onProgress: (fraction: number) => void;
}

/** A bundle upload with progress (fetch cannot report upload progress; XMLHttpRequest can). */
async function uploadBundle(file: Blob, options: UploadOptions): Promise<PluginJson> {
  const base = await apiPath();
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${base}/plugins/upload${options.allowOverride ? "?allow_override=true" : ""}`);
    const token = savedToken();
    if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.setRequestHeader("Content-Type", "application/zip");
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) options.onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      const parsed = parseJson(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300) resolve(parsed as PluginJson);
      else reject(failure(xhr.status, parsed, `The upload failed with HTTP ${xhr.status}`));
    };
    xhr.onerror = () => reject(new ApiCallError(0, "network_error", "The upload was cut off; is the daemon running and the tunnel open?"));
    xhr.send(file);
  });
}

/** Uploads a picture to the bot's homeserver (through the API's client proxy); answers its mxc URI. */
async function uploadMedia(clientId: string, file: File): Promise<string> {
  const base = await apiPath();
  const token = savedToken();
  const res = await fetch(`${base}/proxy/${enc(clientId)}/_matrix/media/v3/upload?filename=${enc(file.name)}`, {
    method: "POST",
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), "Content-Type": file.type || "application/octet-stream" },
    body: file,
  });
  const parsed = parseJson(await res.text()) as { content_uri?: string; error?: string } | null;
  if (!res.ok || !parsed?.content_uri) throw failure(res.status, parsed, parsed?.error ?? `The homeserver refused the picture (HTTP ${res.status})`);
  return parsed.content_uri;
}

export const api = {
  login: (username: string, password: string) => call<LoginResponse>("POST", "/auth/login", { username, password }),
  ping: () => call<PingResponse>("POST", "/auth/ping"),
  health: () => call<HealthJson>("GET", "/health"),

  plugins: () => call<PluginJson[]>("GET", "/plugins"),
  plugin: (id: string) => call<PluginJson>("GET", `/plugin/${enc(id)}`),
  deletePlugin: (id: string) => call<null>("DELETE", `/plugin/${enc(id)}`),
  uploadBundle,

  instances: () => call<InstanceJson[]>("GET", "/instances"),
  instance: (id: string) => call<InstanceJson>("GET", `/instance/${enc(id)}`),
  putInstance: (id: string, settings: InstanceSettings) => call<InstanceJson>("PUT", `/instance/${enc(id)}`, settings),
  deleteInstance: (id: string) => call<null>("DELETE", `/instance/${enc(id)}`),

  databaseTables: (id: string) => call<TablesResult>("GET", `/instance/${enc(id)}/database`),
  databaseTable: (id: string, table: string) => call<QueryResult>("GET", `/instance/${enc(id)}/database/${enc(table)}?limit=50`),
  databaseQuery: (id: string, query: string) => call<QueryResult>("POST", `/instance/${enc(id)}/database/query`, { query }),

  clients: () => call<ClientJson[]>("GET", "/clients"),
  client: (id: string) => call<ClientJson>("GET", `/client/${enc(id)}`),
  newClient: (settings: ClientSettings) => call<ClientJson>("POST", "/client/new", settings),
  putClient: (id: string, settings: ClientSettings) => call<ClientJson>("PUT", `/client/${enc(id)}`, settings),
  deleteClient: (id: string) => call<null>("DELETE", `/client/${enc(id)}`),
  uploadMedia,

  homeservers: () => call<HomeserverList>("GET", "/client/auth/servers"),
  /** Registers (or logs in) on a configured homeserver and stores the account as a client. */
  accountOnHomeserver: (server: string, mode: "register" | "login", username: string, password: string) =>
    call<ClientJson | AccountLoginResponse>("POST", `/client/auth/${enc(server)}/${mode}?update_client=true`, { username, password }),
};
