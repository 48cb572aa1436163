export { loadConfig, parseDuration, type LoadOptions } from "./load.js";
export { createFirstRunConfig, defaultExamplePath, type FirstRunResult } from "./first-run.js";
export { prepareServiceConfig, serviceConfigText, shippedPluginsDir, SERVICE_ADMIN, SERVICE_CREDENTIALS, type ServicePreparation } from "./service-config.js";
export { hashPassword, verifyPassword, isBcryptHash, randomSecret, BCRYPT_COST } from "./passwords.js";
export { API_FEATURES, LOG_LEVELS } from "./schema.js";
export type { SecretSpec } from "./secrets.js";
export {
  ConfigError,
  type ApiFeature,
  type BotyardConfig,
  type ConfigNote,
  type HomeserverConfig,
  type LoadedConfig,
  type LogLevel,
} from "./types.js";
