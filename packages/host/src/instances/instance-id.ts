// The rule for instance ids: an id names the instance's database file and a URL segment.
import { HostError } from "../errors.js";

const MAX_INSTANCE_ID_LENGTH = 100;
const MAX_INSTANCE_ID_BYTES = 200;

/** Why `id` cannot name an instance (it names its database file and a URL segment), or null. */
export function invalidInstanceId(id: string): string | null {
  // The id names its database file `<id>.db` (and `<id>.db-wal`, `<id>.db.restoring`), and file
  // names end at 255 bytes: 100 characters and 200 bytes leave room for every suffix.
  if (id.length === 0 || id.length > MAX_INSTANCE_ID_LENGTH || Buffer.byteLength(id) > MAX_INSTANCE_ID_BYTES) {
    return `must be 1 to ${MAX_INSTANCE_ID_LENGTH} characters (${MAX_INSTANCE_ID_BYTES} bytes in UTF-8) long`;
  }
  if (/[/\\\x00-\x1f\x7f]/.test(id)) return "may not contain slashes, backslashes or control characters";
  if (id.startsWith(".")) return "may not start with a dot";
  return null;
}

/** Refuses (`invalid_id`) an id that cannot name a new instance. */
export function checkInstanceId(id: string): void {
  const problem = invalidInstanceId(id);
  if (problem) throw new HostError("invalid_id", `Instance id ${JSON.stringify(id)} ${problem}.`);
}
