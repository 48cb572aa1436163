// @botyard/host as a library (benches, the Nix module's checks, embedding): the daemon and the
// pieces it is built from. The `botyard` command is main.ts.
export { Daemon, hostVersion, type DaemonOptions } from "./daemon.js";
export { loadConfig, createFirstRunConfig, hashPassword, verifyPassword, ConfigError, type BotyardConfig, type LoadedConfig } from "./config/index.js";
export { HostStore, StoreError } from "./store/index.js";
export { createLogging, LogRing, type Logging, type LogEntry } from "./logging/index.js";
