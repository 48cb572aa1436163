// Checks that a bundle's main module imports and exports a plugin class, in a short-lived worker:
// plugin code never runs in the host's main thread, even for validation.
import type { ResourceLimits } from "node:worker_threads";
import { PluginWorker } from "./plugin-worker.js";
import type { LoadSpec } from "./protocol.js";

export interface ProbeOptions {
  timeoutMs?: number;
  resourceLimits?: ResourceLimits;
}

/** Resolves when the module loads and `mainClass` is a plugin class; rejects with the reason. */
export async function probePluginModule(spec: LoadSpec, options: ProbeOptions = {}): Promise<void> {
  const worker = new PluginWorker({
    label: `probe:${spec.main}`,
    load: spec,
    probe: true,
    loadTimeoutMs: options.timeoutMs ?? 15_000,
    resourceLimits: options.resourceLimits ?? { maxOldGenerationSizeMb: 256 },
  });
  try {
    await worker.ready();
  } finally {
    await worker.terminate();
  }
}
