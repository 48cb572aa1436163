// What the benches that assemble a host by hand import: the built host's classes (packages/host/dist,
// so build first) and the libraries they use to make bundles and loggers.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const hostDist = join(root, "packages/host/dist");
export const { PluginRegistry } = await import(join(hostDist, "bundles/plugin-registry.js"));
export const { InstanceSupervisor } = await import(join(hostDist, "instances/instance-supervisor.js"));
export const { HostStore } = await import(join(hostDist, "store/host-store.js"));
export const { default: AdmZip } = await import("adm-zip");
export const YAML = (await import("yaml")).default;
export const { pino } = await import("pino");
