// The management API (maubot-compatible, under /_matrix/maubot/v1).
export { API_PREFIX, buildApi } from "./app.js";
export { startApiServer, type ApiServer } from "./server.js";
export { DEFAULT_LIMITS, type AccountCalls, type ApiDeps, type ApiLimits } from "./deps.js";
export { TokenIssuer } from "./tokens.js";
