// The Matrix side of the host: bot accounts (ClientPool), account creation, message formatting.
export { ClientPool, type ClientMemoryStats, type ClientPoolOptions, type ClientRowSource, type ClientStatus } from "./client-pool.js";
export { MatrixCallError } from "./call-errors.js";
export {
  AccountError,
  loginWithPassword,
  newDeviceId,
  normalizeHomeserverUrl,
  registerWithSharedSecret,
  registerWithToken,
  whoami,
  type AccountCredentials,
} from "./accounts.js";
export { escapeHtml, renderMarkdown, sanitizeMatrixHtml } from "./format.js";
