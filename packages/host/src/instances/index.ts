export { InstanceSupervisor, type InstanceStatus, type RestartPolicy } from "./instance-supervisor.js";
export type { InstancePatch, InstanceRecords, InstanceSupervisorOptions, PluginSource } from "./supervisor-options.js";
export { invalidInstanceId } from "./instance-id.js";
export { DEFAULT_MAX_MEMORY_BYTES, type FleetEvents, type WorkerSettings } from "./worker-fleet.js";
export { InstanceDatabaseFiles } from "./instance-database-files.js";
export { InstanceConfigError, effectiveConfigText, mergeConfig, resolveInstanceConfig } from "./instance-config.js";
export { DEFAULT_MAX_WEB_RESPONSE_BYTES, PluginWorker, resolveWorkerEntry, type PluginWebReply, type WorkerDeath, type WorkerDeathCause } from "../workers/plugin-worker.js";
export type { HostToWorker, WorkerToHost } from "../workers/plugin-protocol.js";
export { RestartBackoff, DEFAULT_RESTART_POLICY } from "./restart-backoff.js";
