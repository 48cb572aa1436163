// The bundle of an upload: the raw body as maubot, mbc and maubot's UI send it, or (botyard
// extension, for `curl -F bundle=@x.mbp`) the one file of a multipart/form-data body.
import type { Context } from "koa";
import type multerType from "multer";
import { ApiError } from "../errors.js";
import { readRawBody } from "./body.js";

export async function readBundleBody(ctx: Context, limit: number): Promise<Buffer> {
  if (!ctx.is("multipart/form-data")) return readRawBody(ctx, limit, "bundle_too_large");
  // multer and busboy load with the first form upload: most uploads are raw bodies.
  const multer = ((await import("multer")) as unknown as { default: typeof multerType }).default;
  const parse = multer({ storage: multer.memoryStorage(), limits: { fileSize: limit, files: 1, fields: 20 } }).any();
  const files = await new Promise<Express.Multer.File[]>((resolve, reject) => {
    const req = ctx.req as typeof ctx.req & { files?: Express.Multer.File[] };
    parse(req as never, ctx.res as never, (err: unknown) => (err ? reject(err) : resolve(req.files ?? [])));
  }).catch((err: unknown) => {
    if (err instanceof multer.MulterError && err.code === "LIMIT_FILE_SIZE") {
      ctx.set("Connection", "close");
      throw new ApiError("bundle_too_large", `Bundle larger than ${limit} bytes`);
    }
    throw new ApiError("plugin_invalid", `Could not read the multipart body: ${(err as Error).message}`);
  });
  const file = files[0];
  if (!file) throw new ApiError("plugin_invalid", "The multipart body has no file");
  return file.buffer;
}
