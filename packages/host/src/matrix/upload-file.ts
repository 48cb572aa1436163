// A plugin's file upload (`uploadMediaFile`) as a Blob backed by the file on disk, so the upload
// streams from disk instead of passing the bytes through the worker's message port (a 50 MB video
// would otherwise be held in the worker, cloned into the host and copied once more into a Blob).
// Reading a path the worker names grants nothing new: a worker thread already has the host's file
// access. Only regular files are accepted: a device such as /dev/zero would never end.
import { openAsBlob } from "node:fs";
import { stat } from "node:fs/promises";
import { isAbsolute } from "node:path";

export class UploadFileError extends Error {
  override readonly name = "UploadFileError";
}

/** The file at `path` as a Blob of type `contentType`, read lazily while the upload sends it. */
export async function openUploadFile(path: string, contentType: string): Promise<Blob> {
  if (typeof path !== "string" || !isAbsolute(path)) throw new UploadFileError(`uploadMediaFile needs an absolute path, not ${JSON.stringify(path)}`);
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw new UploadFileError(`cannot upload ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (!info.isFile()) throw new UploadFileError(`cannot upload ${path}: not a regular file`);
  return openAsBlob(path, { type: contentType });
}
