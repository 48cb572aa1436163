// What every route module receives: the services, the limits and the shared auth pieces.
import type { Logger } from "pino";
import type { AccountCalls, ApiDeps, ApiLimits } from "./deps.js";
import type { DatabaseConsole } from "./database-console/database-console.js";
import type { LoginThrottle } from "./login-throttle.js";
import type { TokenIssuer } from "./tokens.js";

export interface RouteContext {
  deps: ApiDeps;
  limits: ApiLimits;
  tokens: TokenIssuer;
  throttle: LoginThrottle;
  accounts: AccountCalls;
  console: DatabaseConsole;
  log: Logger;
}
