// An instance's effective config: its YAML text merged over the bundle's base-config.yaml, then
// validated against the bundle's config_schema (bundles/plugin-config.ts), in the config check
// thread with a time limit: a hostile pattern or YAML text never stalls the host. Errors name
// the path the operator must fix.
import type { Bundle } from "../bundles/bundle-reader.js";
import { instanceConfigBounded } from "../workers/bounded-checks.js";

export { mergeConfig } from "../bundles/plugin-config.js";

export class InstanceConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InstanceConfigError";
  }
}

export async function resolveInstanceConfig(bundle: Pick<Bundle, "baseConfig" | "configSchema">, yamlText: string): Promise<Record<string, unknown>> {
  const outcome = await instanceConfigBounded(bundle, yamlText);
  if ("problem" in outcome) throw new InstanceConfigError(outcome.problem);
  return outcome.config;
}
