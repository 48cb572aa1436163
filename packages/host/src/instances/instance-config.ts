// An instance's effective config: its YAML text merged over the bundle's base-config.yaml, then
// validated against the bundle's config_schema (bundles/plugin-config.ts), in the config check
// thread with a time limit: a hostile pattern or YAML text never stalls the host. Errors name
// the path the operator must fix.
import YAML from "yaml";
import type { Bundle } from "../bundles/bundle-reader.js";
import { isMapping } from "../bundles/plugin-config.js";
import { HostError } from "../errors.js";
import { instanceConfigBounded } from "../workers/bounded-checks.js";

export { mergeConfig } from "../bundles/plugin-config.js";

const EFFECTIVE_MERGE_MAX_CHARS = 16 * 1024;

/** A config the plugin refuses; the message names the path to fix. */
export class InstanceConfigError extends HostError {
  constructor(message: string) {
    super("invalid_config", message);
    this.name = "InstanceConfigError";
  }
}

export async function resolveInstanceConfig(bundle: Pick<Bundle, "baseConfig" | "configSchema">, yamlText: string): Promise<Record<string, unknown>> {
  const outcome = await instanceConfigBounded(bundle, yamlText);
  if ("problem" in outcome) throw new InstanceConfigError(outcome.problem);
  return outcome.config;
}

/**
 * The config an operator should see and edit, as maubot shows it: base-config.yaml (its comments
 * and key order kept) with the instance's values merged in the way mergeConfig merges them.
 * Text that does not parse as a mapping is returned as it is, so nothing stored is hidden.
 */
export function effectiveConfigText(baseText: string | null, instanceText: string): string {
  if (baseText === null || baseText.trim() === "") return instanceText;
  // This runs on the main thread for every instance a GET lists: texts larger than any real
  // config are shown as stored rather than parsed (YAML's duplicate-key check is quadratic).
  if (instanceText.length > EFFECTIVE_MERGE_MAX_CHARS || baseText.length > EFFECTIVE_MERGE_MAX_CHARS) return instanceText;
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
