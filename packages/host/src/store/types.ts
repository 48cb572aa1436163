import type { NotificationLevel } from "../logging/notification-level.js";

// Row shapes of the host database. Field names follow maubot's tables
// (reference/maubot-survey.md §4, §5) so the API can return them unchanged.

/** A bot account ("client" in maubot). `id` is the Matrix user id. */
export interface ClientRow {
  id: string;
  homeserver: string;
  access_token: string;
  device_id: string;
  enabled: boolean;
  /**
   * maubot's sync state, kept so the table and maubot's import stay as they are; botyard never
   * reads them. Each start syncs afresh (no backlog): the SDK resumes from a token only with its
   * whole saved sync (room state, IndexedDBStore), and a bare token leaves the rooms without state.
   */
  next_batch: string;
  filter_id: string;
  sync: boolean;
  autojoin: boolean;
  online: boolean;
  /** "disable" leaves the profile untouched (maubot's meaning). */
  displayname: string;
  avatar_url: string;
}

/** A loaded plugin bundle. */
export interface PluginRow {
  id: string;
  version: string;
  /** Absolute path of the .mbp in the upload/load directory. */
  path: string;
  /** sha256 of the bundle file. */
  sha256: string;
  loaded_at: number;
}

export type InstanceState = "stopped" | "starting" | "running" | "stopping" | "failed";

export interface InstanceRow {
  id: string;
  /** Plugin id. */
  type: string;
  enabled: boolean;
  /** Client id (Matrix user id). */
  primary_user: string;
  /** YAML text, merged over the bundle's base-config.yaml at start. */
  config: string;
  database_engine: "sqlite" | null;
  /** botyard extension: run in a worker of its own. */
  isolated: boolean;
  /** botyard extension: last known state and error, kept across restarts. */
  state: InstanceState;
  last_error: string | null;
  /** botyard extension: records of this instance at or above it reach the admin room. Absent
   * when a row is created: ERROR. */
  error_notification_level?: NotificationLevel;
}
