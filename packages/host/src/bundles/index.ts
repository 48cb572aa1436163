export { BundleError } from "./bundle-error.js";
export { type Bundle, type BundleInfo, bundleInfo, readBundle, describeAjvErrors } from "./bundle-reader.js";
export type { BundleManifest } from "./manifest.js";
export { type InstallOptions, type LoadedPlugin, type PluginInstanceHost, type PluginRecords, PluginRegistry, type PluginRegistryOptions } from "./plugin-registry.js";
