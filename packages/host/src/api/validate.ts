// Checks of ids and body fields at the edge, with errors that name the field.
import { ApiError } from "../errors.js";

/** Instance ids become file names and URL segments: lower-case letters, digits, . _ - (maubot lower-cases them). */
const INSTANCE_ID = /^[a-z0-9][a-z0-9._-]{0,254}$/;
/** A Matrix user id, without characters that could leave a path segment. */
const MXID = /^@[^\s:/\\]+:[^\s/\\]+$/;

export function instanceId(raw: string): string {
  const id = raw.toLowerCase();
  if (!INSTANCE_ID.test(id)) {
    throw new ApiError("invalid_id", `Instance id ${JSON.stringify(raw)} may use only letters, digits, ".", "_" and "-" (not first), up to 255 characters`);
  }
  return id;
}

export function isMxid(value: string): boolean {
  return MXID.test(value) && value.length <= 255;
}

type Kind = "string" | "boolean";
type Of<K extends Kind> = K extends "string" ? string : boolean;

/** `body[key]` when present and of the right type, undefined when absent; else body_not_json naming the field. */
export function optional<K extends Kind>(body: Record<string, unknown>, key: string, kind: K): Of<K> | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== kind) throw new ApiError("body_not_json", `Field "${key}" must be a ${kind}`);
  return value as Of<K>;
}
