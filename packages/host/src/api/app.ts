// The koa app: error mapping and auth as middleware written once, the plugin web endpoints,
// paths.json and the web admin page outside the API prefix, then one route module per resource under /_matrix/maubot/v1.
import Koa from "koa";
import Router from "@koa/router";
import { componentLogger } from "../logging/index.js";
import * as accountCalls from "../matrix/accounts.js";
import { BotAccounts } from "../matrix/bot-accounts.js";
import { DatabaseConsole } from "./database-console/database-console.js";
import { DEFAULT_LIMITS, type ApiDeps } from "./deps.js";
import { LoginThrottle } from "./login-throttle.js";
import { metricsRoute, requestMetrics } from "./metrics-route.js";
import { accessLogMiddleware } from "./middleware/access-log.js";
import { authMiddleware } from "./middleware/auth.js";
import { clientAddressMiddleware } from "./middleware/client-address.js";
import { errorMiddleware } from "./middleware/errors.js";
import { pluginWebMiddleware } from "./plugin-web.js";
import type { RouteContext } from "./route-context.js";
import { registerAuthRoutes, isAdmin } from "./routes/auth.js";
import { registerClientAuthRoutes } from "./routes/client-auth.js";
import { registerClientCryptoRoutes } from "./routes/client-crypto.js";
import { registerClientProxyRoutes } from "./routes/client-proxy.js";
import { registerClientRoutes } from "./routes/clients.js";
import { registerDatabaseRoutes } from "./routes/database.js";
import { registerDebugOpenRoutes } from "./routes/debug-open.js";
import { registerHealthRoutes } from "./routes/health.js";
import { registerInstanceRoutes } from "./routes/instances.js";
import { registerPluginRoutes } from "./routes/plugins.js";
import { TokenIssuer } from "./tokens.js";
import { DEFAULT_WEB_ADMIN_DIR, webAdminMiddleware } from "./web-admin.js";

export const API_PREFIX = "/_matrix/maubot/v1";

export interface ApiApp {
  app: Koa;
  /** Shared with the log websocket, which is served next to the app. */
  context: RouteContext;
}

export function buildApi(deps: ApiDeps): ApiApp {
  const limits = { ...DEFAULT_LIMITS, ...deps.limits };
  const { config } = deps;
  const log = componentLogger(deps.logging.logger, "api");
  const accounts = deps.accounts ?? accountCalls;
  const context: RouteContext = {
    deps,
    limits,
    tokens: new TokenIssuer(config.server.unshared_secret, config.server.token_expiry, (user) => isAdmin(config.admins, user)),
    throttle: new LoginThrottle(limits.loginBurst, limits.loginRefillMs),
    accounts,
    botAccounts: new BotAccounts({ rows: deps.store, clients: deps.clients, accounts, homeservers: config.homeservers, log }),
    console: new DatabaseConsole(limits.queryTimeoutMs, limits.queryMaxRows, limits.queryMaxProcesses, limits.queryMaxMemoryBytes),
    log,
  };

  const app = new Koa({ proxy: false });
  app.silent = true;
  app.use(clientAddressMiddleware(config.server.trusted_proxies));
  if (deps.metrics) app.use(requestMetrics(deps.metrics, config.server.plugin_base_path));
  app.use(accessLogMiddleware(log));
  app.use(errorMiddleware(log));
  if (deps.metrics && config.metrics.listen === null) {
    app.use(metricsRoute(config.metrics.path, deps.metrics, config.metrics.secret, context.tokens));
  }
  app.use(pluginWebMiddleware(context));

  // Paths are case-sensitive, as in maubot (aiohttp): the auth middleware compares the API prefix
  // exactly, so a router matching `/_MATRIX/...` too would serve protected routes without a token.
  const uiPaths = new Router({ sensitive: true });
  uiPaths.get(`${config.server.ui_base_path}/paths.json`, (ctx) => {
    const base = new URL(config.server.public_url).pathname.replace(/\/+$/, "");
    ctx.body = { api_path: `${base}${API_PREFIX}` };
  });
  app.use(uiPaths.routes());
  const uiBase = config.server.ui_base_path.replace(/\/+$/, "");
  app.use(
    webAdminMiddleware({
      dir: deps.webAdminDir ?? DEFAULT_WEB_ADMIN_DIR,
      base: uiBase,
      reserved: [API_PREFIX, config.server.plugin_base_path.replace(/\/+$/, "")],
    }),
  );

  app.use(authMiddleware(API_PREFIX, context.tokens));
  const router = new Router({ prefix: API_PREFIX, sensitive: true });
  registerAuthRoutes(router, context);
  registerHealthRoutes(router, context);
  registerPluginRoutes(router, context);
  registerInstanceRoutes(router, context);
  registerDatabaseRoutes(router, context);
  registerClientRoutes(router, context);
  registerClientCryptoRoutes(router, context);
  registerClientAuthRoutes(router, context);
  registerClientProxyRoutes(router, context);
  registerDebugOpenRoutes(router, context);
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  return { app, context };
}
