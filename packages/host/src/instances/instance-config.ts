// An instance's effective config: its YAML text merged over the bundle's base-config.yaml, then
// validated against the bundle's config_schema. Errors name the path the operator must fix.
import YAML from "yaml";
import type { Bundle } from "../bundles/bundle-reader.js";
import { describeAjvErrors } from "../bundles/bundle-reader.js";

export class InstanceConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InstanceConfigError";
  }
}

function isMapping(value: unknown): value is Record<string, unknown> {
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

export function resolveInstanceConfig(bundle: Pick<Bundle, "baseConfig" | "validateConfig">, yamlText: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = yamlText.trim() === "" ? {} : YAML.parse(yamlText);
  } catch (err) {
    throw new InstanceConfigError(`config is not valid YAML: ${(err as Error).message}`);
  }
  parsed ??= {};
  if (!isMapping(parsed)) throw new InstanceConfigError("config must be a YAML mapping (key: value lines)");
  const config = mergeConfig(structuredClone(bundle.baseConfig ?? {}), parsed);
  if (bundle.validateConfig && !bundle.validateConfig(config)) {
    throw new InstanceConfigError(`invalid config ${describeAjvErrors(bundle.validateConfig.errors)}`);
  }
  return config;
}

/**
 * The config an operator should see and edit, as maubot shows it: base-config.yaml (its comments
 * and key order kept) with the instance's values merged in the way mergeConfig merges them.
 * Text that does not parse as a mapping is returned as it is, so nothing stored is hidden.
 */
export function effectiveConfigText(baseText: string | null, instanceText: string): string {
  if (baseText === null || baseText.trim() === "") return instanceText;
  let over: unknown;
  try {
    over = instanceText.trim() === "" ? {} : YAML.parse(instanceText);
  } catch {
    return instanceText;
  }
  over ??= {};
  if (!isMapping(over)) return instanceText;
  const doc = YAML.parseDocument(baseText);
  if (doc.errors.length > 0 || !YAML.isMap(doc.contents)) return instanceText;
  const mergeInto = (path: string[], values: Record<string, unknown>) => {
    for (const [key, value] of Object.entries(values)) {
      const at = [...path, key];
      const current: unknown = doc.getIn(at, true);
      if (isMapping(value) && YAML.isMap(current)) mergeInto(at, value);
      // An unchanged value keeps the base's formatting (flow lists, quoting), so saving the
      // effective config back gives the same text.
      else if (JSON.stringify(YAML.isNode(current) ? current.toJSON() : current) !== JSON.stringify(value)) doc.setIn(at, value);
    }
  };
  mergeInto([], over);
  return doc.toString();
}
