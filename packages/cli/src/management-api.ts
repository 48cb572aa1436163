// The two calls of botyard's (maubot-compatible) management API the CLI makes.

export const API_PREFIX = "/_matrix/maubot/v1";

export class ApiCallError extends Error {
  readonly status: number;
  readonly errcode: string | null;
  constructor(status: number, errcode: string | null, message: string) {
    super(message);
    this.name = "ApiCallError";
    this.status = status;
    this.errcode = errcode;
  }
}

async function call(server: string, path: string, init: RequestInit): Promise<{ status: number; body: unknown }> {
  let res: Response;
  try {
    res = await fetch(`${server}${API_PREFIX}${path}`, { ...init, signal: AbortSignal.timeout(60_000) });
  } catch (err) {
    const why = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    throw new ApiCallError(0, null, `cannot reach ${server}: ${why}`);
  }
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok) {
    const err = (body ?? {}) as { errcode?: string; error?: string };
    throw new ApiCallError(res.status, err.errcode ?? null, `${server} answered ${res.status}${err.errcode ? ` ${err.errcode}` : ""}: ${err.error ?? (text.slice(0, 200) || res.statusText)}`);
  }
  return { status: res.status, body };
}

export async function login(server: string, username: string, password: string): Promise<string> {
  const { body: answer } = await call(server, "/auth/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  const body = answer as { token?: unknown } | null;
  if (typeof body?.token !== "string") throw new ApiCallError(200, null, `${server} answered the login without a token`);
  return body.token;
}

export interface UploadedPlugin {
  id: string;
  version: string;
  [key: string]: unknown;
}

/** Uploads a bundle, replacing a loaded plugin of the same id (mbc's `allow_override=true`). */
export async function uploadPlugin(server: string, token: string, bundle: Uint8Array): Promise<{ plugin: UploadedPlugin; created: boolean }> {
  const { status, body } = await call(server, "/plugins/upload?allow_override=true", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/zip" },
    body: bundle as unknown as RequestInit["body"],
  });
  const plugin = body as UploadedPlugin | null;
  if (!plugin || typeof plugin.id !== "string") throw new ApiCallError(status, null, `${server} answered the upload without a plugin`);
  return { plugin, created: status === 201 };
}
