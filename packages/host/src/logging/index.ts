export {
  createLogging,
  instanceLogger,
  clientLogger,
  componentLogger,
  type Logging,
  type LoggingConfig,
  type LoggingOptions,
} from "./logging.js";
export { LogRing, toLogEntry, type LogEntry, type LogListener } from "./log-ring.js";
export { SecretScrubber, redactDeep, isSecretKey, CENSOR } from "./redact.js";
export { formatPretty } from "./console-format.js";
