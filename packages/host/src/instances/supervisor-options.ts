// What an InstanceSupervisor is built from: where instance rows are stored, where loaded plugins
// come from, the bot accounts that carry out plugins' Matrix calls, and its folders and limits.
import type { Logger } from "pino";
import type { LoadedPlugin, PluginInstanceHost } from "../bundles/plugin-registry.js";
import type { InstanceMetricsRecorder } from "../metrics/recorder.js";
import type { ClientCaller } from "../ports.js";
import type { InstanceRow, InstanceState } from "../store/types.js";
import type { WorkerSettings } from "./worker-fleet.js";

/** What the supervisor needs from the host store (HostStore has these). */
export interface InstanceRecords {
  listInstances(): InstanceRow[] | Promise<InstanceRow[]>;
  getInstance(id: string): InstanceRow | null | undefined | Promise<InstanceRow | null | undefined>;
  putInstance(row: InstanceRow): unknown;
  deleteInstance(id: string): unknown;
  renameInstance(oldId: string, newId: string): unknown;
  setInstanceState(id: string, state: InstanceState, lastError: string | null): unknown;
}

/** Where loaded plugins come from (PluginRegistry). */
export interface PluginSource {
  get(id: string): LoadedPlugin | undefined;
}

/** What InstanceSupervisor.update may change. */
export type InstancePatch = Partial<Pick<InstanceRow, "id" | "type" | "enabled" | "primary_user" | "config" | "database_engine" | "isolated" | "error_notification_level">>;

export interface InstanceSupervisorOptions extends WorkerSettings {
  records: InstanceRecords;
  plugins: PluginSource;
  clients: ClientCaller;
  logger: Logger;
  /** Folder of the instance databases (`plugin_databases.sqlite`). */
  databaseDir: string;
  /** `public_url` + `plugin_base_path` (ends with "/"); null when there is no public URL. */
  webappBaseUrl?: string | null;
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
  webTimeoutMs?: number;
  /** Counts events handed to instances, and makes workers keep metrics (default: off). */
  metrics?: InstanceMetricsRecorder;
}
