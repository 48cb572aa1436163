// Request bodies read once, with a size limit, for every route that takes one. maubot parses
// JSON whatever the Content-Type says (curl -d sends form encoding), so this does too.
import type { Context } from "koa";
import { ApiError, type ErrCode } from "../errors.js";

/** Reads the raw body; `tooLarge` is thrown as soon as more than `limit` bytes arrive. */
export async function readRawBody(ctx: Context, limit: number, tooLarge: ErrCode = "body_too_large"): Promise<Buffer> {
  const declared = Number(ctx.get("content-length") || NaN);
  const refuse = (): ApiError => {
    // Stop reading; the connection is closed after the answer so the rest is not waited for.
    ctx.set("Connection", "close");
    return new ApiError(tooLarge, `Request body larger than ${limit} bytes`);
  };
  if (Number.isFinite(declared) && declared > limit) throw refuse();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw refuse();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** The body as a JSON object; anything else is `body_not_json`. */
export async function readJsonObject(ctx: Context, limit: number): Promise<Record<string, unknown>> {
  const raw = await readRawBody(ctx, limit);
  let value: unknown;
  try {
    value = JSON.parse(raw.toString("utf8"));
  } catch {
    throw new ApiError("body_not_json", "Request body is not JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ApiError("body_not_json", "Request body must be a JSON object");
  }
  return value as Record<string, unknown>;
}
