// What every route module receives: the services, the limits and the shared auth pieces.
import type { Logger } from "pino";
import type { BotAccounts } from "../matrix/bot-accounts.js";
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
  /** Adding, changing and deleting bot accounts (the client routes). */
  botAccounts: BotAccounts;
  console: DatabaseConsole;
  log: Logger;
}
