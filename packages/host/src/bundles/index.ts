export { BundleError } from "./bundle-error.js";
export { type Bundle, type BundleInfo, bundleInfo, readBundle } from "./bundle-reader.js";
export { describeAjvErrors } from "./config-schema.js";
export type { BundleManifest } from "./manifest.js";
export { type InstallOptions, type LoadedPlugin, type PluginInstanceHost, type PluginRecords, PluginRegistry, type PluginRegistryOptions } from "./plugin-registry.js";
