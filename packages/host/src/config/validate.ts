// Validates the parsed config.yaml against the schema (compiled once) and turns ajv's errors
// into one line naming the key, e.g. `config.yaml: server.port must be integer`.
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { closest, distance } from "fastest-levenshtein";
import { configSchema } from "./schema.js";
import { ConfigError } from "./types.js";

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  compiled ??= new Ajv({ allErrors: true, useDefaults: true, verbose: true, allowUnionTypes: true }).compile(
    configSchema,
  );
  return compiled;
}

/** Fills in defaults in `data` (mutates it) and throws a ConfigError naming every bad key. */
export function validateConfigData(data: unknown, fileLabel: string): void {
  const validate = validator();
  if (validate(data)) return;
  const messages = describeErrors(validate.errors ?? []);
  throw new ConfigError(messages.map((m) => `${fileLabel}: ${m}`).join("\n"));
}

/** `/homeservers/matrix.org/url` → `homeservers["matrix.org"].url` */
export function keyPath(pointer: string, extra?: string): string {
  const parts = pointer
    .split("/")
    .slice(1)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (extra !== undefined) parts.push(extra);
  let out = "";
  for (const part of parts) {
    if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(part)) out += out ? `.${part}` : part;
    else if (/^[0-9]+$/.test(part)) out += `[${part}]`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

function describeErrors(errors: ErrorObject[]): string[] {
  // An anyOf failure comes with one error per branch; report the anyOf once, with its
  // description, and drop the branch errors under the same key.
  const anyOfPaths = errors.filter((e) => e.keyword === "anyOf").map((e) => e.instancePath);
  const out = new Set<string>();
  for (const e of errors) {
    // Errors inside propertyNames repeat what the propertyNames error itself says.
    if (e.propertyName !== undefined && e.keyword !== "propertyNames") continue;
    if (e.keyword !== "anyOf" && anyOfPaths.some((p) => e.instancePath === p || e.instancePath.startsWith(`${p}/`))) {
      continue;
    }
    out.add(describe(e));
  }
  return [...out];
}

/**
 * The known key closest to a mistyped one: an edit distance of at most a third of the key
 * (`homeserver` → `homeservers`), or the known key that starts with it (`host` → `hostname`).
 */
export function didYouMean(key: string, known: readonly string[]): string | undefined {
  if (known.length === 0) return undefined;
  const nearest = closest(key, [...known]);
  if (distance(key, nearest) <= Math.max(1, Math.floor(key.length / 3))) return nearest;
  return key.length >= 3 ? known.find((k) => k.startsWith(key)) : undefined;
}

function describe(e: ErrorObject): string {
  const where = keyPath(e.instancePath);
  const subject = where || "the top level";
  switch (e.keyword) {
    case "additionalProperties": {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const known = Object.keys((e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {});
      const guess = didYouMean(key, known);
      return `${keyPath(e.instancePath, key)} is not a known setting${guess ? `; did you mean ${keyPath(e.instancePath, guess)}?` : ""}`;
    }
    case "required": {
      const key = (e.params as { missingProperty: string }).missingProperty;
      return `${keyPath(e.instancePath, key)} is required`;
    }
    case "anyOf": {
      const description = (e.parentSchema as { description?: string } | undefined)?.description;
      return `${subject} must be ${description ?? "one of the allowed forms"}`;
    }
    case "enum": {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
      return `${subject} must be one of ${allowed.map((v) => JSON.stringify(v)).join(", ")}`;
    }
    case "propertyNames":
      return `${subject} has an invalid key ${JSON.stringify((e.params as { propertyName: string }).propertyName)}`;
    default:
      return `${subject} ${e.message ?? "is invalid"}`;
  }
}
