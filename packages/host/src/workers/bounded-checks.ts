// The host's bounded way to read a bundle and resolve an instance config: the work runs in check
// threads (check-thread.ts), each job with a time limit, so nothing an upload or an API body
// holds can block the main thread's event loop for longer than it takes to copy the bytes.
//
// Why a thread with a time limit and not ajv's `code.regExp` with V8's non-backtracking engine:
// that engine is behind an experimental flag for the whole process (plugins included), refuses
// lookarounds and backreferences that real schemas use, and covers only `pattern`; a
// 10,000-property schema, a YAML file with thousands of keys (the yaml library's duplicate-key
// check is quadratic: 4 s for 64 KiB measured at load 5) or lexing a 100 MB module stall the
// thread just as surely. A thread that is terminated on time bounds all of them at once.
//
// Bundles and configs have a thread each, so a slow upload never delays an instance's start.
import type { Bundle } from "../bundles/bundle-reader.js";
import { BundleError } from "../bundles/bundle-error.js";
import type { ConfigOutcome } from "../bundles/plugin-config.js";
import type { BundleData } from "./check-protocol.js";
import { CheckFailure, CheckThread } from "./check-thread.js";

/**
 * Reading a bundle: inflating, hashing and lexing 100 MiB, the largest bundle allowed, takes a
 * few seconds on a loaded machine (lexing 96 MB: 7.4 s at load 5); real bundles take milliseconds.
 */
export const READ_BUNDLE_LIMIT_MS = 30_000;
/**
 * Compiling a config_schema within the static bounds and validating a config against it: the
 * largest schema allowed (1,000 nodes) compiles in about 2 s at load 5; real ones in milliseconds.
 */
export const CONFIG_CHECK_LIMIT_MS = 10_000;

const bundleThread = new CheckThread();
const configThread = new CheckThread();

/** Ends both threads (for a host that stops; they never keep the process alive anyway). */
export async function closeCheckThreads(): Promise<void> {
  await Promise.all([bundleThread.close(), configThread.close()]);
}

/** readBundle and checkBundleConfig (bundles/bundle-reader.ts), each under its time limit. */
export async function readBundleBounded(zip: Buffer, options: { hostVersion?: string } = {}): Promise<Bundle> {
  let data: BundleData;
  try {
    data = await bundleThread.run({ kind: "read-bundle", zip, hostVersion: options.hostVersion }, READ_BUNDLE_LIMIT_MS);
  } catch (err) {
    throw bundleRefusal(err, "Reading the bundle");
  }
  try {
    await configThread.run({ kind: "check-bundle-config", configSchema: data.configSchema, baseConfig: data.baseConfig }, CONFIG_CHECK_LIMIT_MS);
  } catch (err) {
    throw bundleRefusal(err, "Checking base-config.yaml against config_schema");
  }
  const files = new Map<string, Buffer>();
  for (const [name, bytes] of data.files) files.set(name, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return { ...data, files };
}

/** The instance's config merged over `bundle`'s base config and checked, or the problem to fix. */
export async function instanceConfigBounded(bundle: Pick<Bundle, "baseConfig" | "configSchema">, yamlText: string): Promise<ConfigOutcome> {
  try {
    return await configThread.run({ kind: "instance-config", configSchema: bundle.configSchema, baseConfig: bundle.baseConfig, yamlText }, CONFIG_CHECK_LIMIT_MS);
  } catch (err) {
    if (!(err instanceof CheckFailure)) throw err;
    if (err.reason === "refused") return { problem: err.message };
    return { problem: `checking the config against the plugin's config_schema failed: ${err.message} (a pattern in the schema that backtracks on this value, or a config too large); the config is refused` };
  }
}

function bundleRefusal(err: unknown, what: string): Error {
  if (!(err instanceof CheckFailure)) return err as Error;
  if (err.reason === "refused") return new BundleError(err.errcode ?? "plugin_invalid", err.message);
  const hint = what.startsWith("Checking") ? "a pattern in config_schema that backtracks on a value" : "a bundle whose files are too costly to parse";
  return new BundleError("plugin_invalid", `${what} failed: ${err.message} (${hint}); the bundle is refused.`);
}
