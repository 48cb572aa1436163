// One place where every failure becomes maubot's `{"errcode","error"}`: every HostError (the
// services' refusals, BundleError, the API's own ApiError) and any other error carrying a known
// errcode keep theirs; koa/router HTTP errors map to maubot's names;
// anything else is a 500 `internal_server_error`, logged with its stack, never sent to the client.
import type { Middleware } from "koa";
import type { Logger } from "pino";
import { ApiError, ERRCODES, type ErrCode, HostError } from "../../errors.js";

function isKnownErrcode(value: unknown): value is ErrCode {
  return typeof value === "string" && Object.hasOwn(ERRCODES, value);
}

/** The JSON body and status for any thrown value. */
export function errorResponse(err: unknown, log: Logger): { status: number; body: Record<string, unknown> } {
  if (err instanceof HostError) return { status: err.status, body: err.toJSON() };
  const e = err as { errcode?: unknown; message?: unknown; status?: unknown; expose?: unknown; matrixErrcode?: unknown; httpStatus?: unknown };
  if (e && typeof e === "object" && isKnownErrcode(e.errcode)) {
    const body: Record<string, unknown> = { errcode: e.errcode, error: String(e.message ?? e.errcode) };
    // Client-auth failures pass the homeserver's own code through, as maubot does.
    if (typeof e.matrixErrcode === "string") body.matrix_errcode = e.matrixErrcode;
    if (typeof e.httpStatus === "number") body.http_status = e.httpStatus;
    return { status: ERRCODES[e.errcode], body };
  }
  // http-errors from koa itself or @koa/router's allowedMethods({ throw: true }).
  if (e && typeof e === "object" && typeof e.status === "number" && e.expose === true) {
    const status = e.status;
    if (status === 404) return { status, body: { errcode: "resource_not_found", error: "Resource not found" } };
    if (status === 405) return { status, body: { errcode: "method_not_allowed", error: "Method not allowed" } };
    if (status === 413) return { status, body: { errcode: "body_too_large", error: "Request body too large" } };
    if (status === 501) return { status: 405, body: { errcode: "method_not_allowed", error: "Method not allowed" } };
    return { status, body: { errcode: `unhandled_http_${status}`, error: `Unhandled HTTP ${status}: ${String(e.message)}` } };
  }
  log.error({ err }, "unhandled error in API request");
  return { status: 500, body: { errcode: "internal_server_error", error: "Internal server error" } };
}

export function errorMiddleware(log: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body == null) throw new ApiError("resource_not_found", "Resource not found");
    } catch (err) {
      const { status, body } = errorResponse(err, log);
      ctx.status = status;
      ctx.body = body;
    }
  };
}
