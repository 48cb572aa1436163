export { InstanceSupervisor, invalidInstanceId, type InstancePatch, type InstanceRecords, type InstanceStatus, type InstanceSupervisorOptions, type PluginSource, type RestartPolicy } from "./instance-supervisor.js";
export { InstanceConfigError, mergeConfig, resolveInstanceConfig } from "./instance-config.js";
export { PluginWorker, resolveWorkerEntry } from "./plugin-worker.js";
export type { HostToWorker, WorkerToHost } from "./protocol.js";
export { RestartBackoff, DEFAULT_RESTART_POLICY } from "./restart-backoff.js";
