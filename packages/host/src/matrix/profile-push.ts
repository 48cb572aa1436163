// A bot's profile: the row's displayname and avatar pushed to the homeserver (unless "disable",
// maubot's "leave it alone"), then what the homeserver holds read back for the status.
import type { MatrixClient } from "matrix-js-sdk/lib/client.js";
import type { Logger } from "pino";
import type { ClientRow } from "../store/types.js";
import { describeError } from "./call-errors.js";
import { withRetry, type RetryPolicy } from "./request-retry.js";

export interface RemoteProfile {
  remote_displayname: string | null;
  remote_avatar_url: string | null;
}

/**
 * Pushes the row's profile and reads the homeserver's back; null when it could not be read.
 * `isRunning` false: the client was stopped meanwhile, so failures are not worth a log line.
 */
export async function pushProfile(client: MatrixClient, row: ClientRow, retry: RetryPolicy, log: Logger, isRunning: () => boolean): Promise<RemoteProfile | null> {
  try {
    if (row.displayname !== "disable") await withRetry(() => client.setDisplayName(row.displayname), retry);
    if (row.avatar_url !== "disable") await withRetry(() => client.setAvatarUrl(row.avatar_url), retry);
  } catch (err) {
    if (!isRunning()) return null;
    log.warn({ err: describeError(err) }, "could not set the profile");
  }
  try {
    const profile = await client.getProfileInfo(row.id);
    return {
      remote_displayname: typeof profile.displayname === "string" ? profile.displayname : null,
      remote_avatar_url: typeof profile.avatar_url === "string" ? profile.avatar_url : null,
    };
  } catch (err) {
    if (isRunning()) log.debug({ err: describeError(err) }, "could not read the profile");
    return null;
  }
}
