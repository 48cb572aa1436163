// How a failed Matrix call reaches a plugin or the logs: one error type with the homeserver's
// errcode, and one line of text for any failure.
import { MatrixError } from "matrix-js-sdk/lib/http-api/index.js";
import { isUnreachable } from "./request-retry.js";

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

/** One line for logs and last_error: the homeserver's errcode and text, or the error and its cause. */
export function describeError(err: unknown): string {
  if (err instanceof MatrixError) return `${err.errcode ?? `HTTP ${err.httpStatus}`}: ${err.data?.error ?? err.message}`;
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? ` (${err.cause.message})` : "";
    return `${err.message}${cause}`;
  }
  return String(err);
}

/** What a plugin's call rejects with: homeserver answers and unreachable homeservers as MatrixCallError. */
export function toCallError(err: unknown): Error {
  if (err instanceof MatrixCallError) return err;
  if (err instanceof MatrixError) return new MatrixCallError(describeError(err), err.errcode ?? null, err.httpStatus ?? null);
  if (isUnreachable(err)) return new MatrixCallError(`Homeserver unreachable: ${describeError(err)}`, null, null);
  return err instanceof Error ? err : new Error(String(err));
}
