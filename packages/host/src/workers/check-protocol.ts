// Messages between the host and its check thread (check-thread.ts): one job in, one reply out,
// matched by id. Both sides import this file.
import type { Bundle } from "../bundles/bundle-reader.js";
import type { ConfigSchema } from "../bundles/config-schema.js";
import type { ConfigOutcome } from "../bundles/plugin-config.js";
import type { ErrCode } from "../errors.js";

/** A Bundle as it crosses the thread boundary: structured cloning turns Buffers into Uint8Arrays. */
export type BundleData = Omit<Bundle, "files"> & { files: ReadonlyMap<string, Uint8Array> };

export type CheckJob =
  | { kind: "read-bundle"; zip: Uint8Array; hostVersion?: string }
  | { kind: "check-bundle-config"; configSchema: ConfigSchema | null; baseConfig: Record<string, unknown> | null }
  | { kind: "instance-config"; configSchema: ConfigSchema | null; baseConfig: Record<string, unknown> | null; yamlText: string };

/** What each kind of job answers with. */
export interface CheckResults {
  "read-bundle": BundleData;
  "check-bundle-config": null;
  "instance-config": ConfigOutcome;
}

export type CheckKind = CheckJob["kind"];

export type CheckRequest = { id: number; job: CheckJob };

/** Posted once by the thread when its modules are loaded: job time limits start counting after it. */
export type CheckThreadReady = { ready: true };

export type CheckReply =
  | { id: number; ok: true; value: CheckResults[CheckKind] }
  /** `errcode` is set when the job refused its input with an API errcode (a BundleError). */
  | { id: number; ok: false; message: string; errcode: ErrCode | null };
