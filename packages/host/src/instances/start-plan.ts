// Whether an instance can start, checked before any worker is asked: its id, its plugin, its config.
import type { LoadedPlugin } from "../bundles/plugin-registry.js";
import type { InstanceRow, InstanceState } from "../store/types.js";
import { resolveInstanceConfig } from "./instance-config.js";
import { invalidInstanceId } from "./instance-id.js";
import type { PluginSource } from "./supervisor-options.js";

/** What the instance starts with, or why it cannot start and the state it stays in. */
export type StartPlan = { plugin: LoadedPlugin; config: Record<string, unknown> } | { state: Extract<InstanceState, "failed" | "stopped">; reason: string };

export async function planStart(row: InstanceRow, plugins: PluginSource): Promise<StartPlan> {
  const badId = invalidInstanceId(row.id);
  if (badId) return { state: "failed", reason: `the instance id ${badId}; rename it` };
  const plugin = plugins.get(row.type);
  if (!plugin) return { state: "failed", reason: `plugin ${row.type} is not loaded` };
  try {
    return { plugin, config: await resolveInstanceConfig(plugin.bundle, row.config) };
  } catch (err) {
    // An invalid config keeps the instance stopped; the message names the path to fix.
    return { state: "stopped", reason: (err as Error).message };
  }
}
