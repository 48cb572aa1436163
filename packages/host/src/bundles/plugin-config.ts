// An instance's effective config: its YAML text merged over the bundle's base-config.yaml, then
// validated against the bundle's config_schema. Pure and synchronous, with costs an API body
// controls (YAML parsing, the schema's patterns), so the host runs it in the check thread
// (workers/check-thread.ts); instances/instance-config.ts is the host's way in.
import type { ValidateFunction } from "ajv";
import YAML from "yaml";
import { configProblems } from "./config-schema.js";

/** Bytes of an instance's config text: as for base-config.yaml, far above any real config. */
export const MAX_INSTANCE_CONFIG_BYTES = 256 * 1024;

export function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** `over` wins; mappings merge key by key, everything else (lists included) is replaced whole. */
export function mergeConfig(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = Object.hasOwn(out, key) ? out[key] : undefined;
    const merged = isMapping(current) && isMapping(value) ? mergeConfig(current, value) : value;
    // A data property, never the `__proto__` setter: a YAML key "__proto__" stays a plain key.
    Object.defineProperty(out, key, { value: merged, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

export type ConfigOutcome = { config: Record<string, unknown> } | { problem: string };

/** The merged, validated config, or what the operator must fix (the path named as describeAjvErrors does). */
export function configFromText(baseConfig: Record<string, unknown> | null, validate: ValidateFunction | null, yamlText: string): ConfigOutcome {
  const bytes = Buffer.byteLength(yamlText);
  if (bytes > MAX_INSTANCE_CONFIG_BYTES) return { problem: `config is ${bytes} bytes; the limit is ${MAX_INSTANCE_CONFIG_BYTES / 1024} KiB` };
  let parsed: unknown;
  try {
    // The yaml library's default maxAliasCount (100) already refuses alias bombs.
    parsed = yamlText.trim() === "" ? {} : YAML.parse(yamlText);
  } catch (err) {
    return { problem: `config is not valid YAML: ${(err as Error).message}` };
  }
  parsed ??= {};
  if (!isMapping(parsed)) return { problem: "config must be a YAML mapping (key: value lines)" };
  const config = mergeConfig(structuredClone(baseConfig ?? {}), parsed);
  const problems = validate ? configProblems(validate, config) : null;
  return problems ? { problem: `invalid config ${problems}` } : { config };
}
