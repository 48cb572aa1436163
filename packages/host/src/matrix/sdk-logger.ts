// matrix-js-sdk logs through a small Logger interface; this routes it into the client's pino
// logger. The SDK reports every transient failure (a retried sync, a dropped connection) at
// "error", and ERROR records reach the admin room, so its levels are lowered by one step: the
// pool itself logs what an operator must see.
import type { Logger as PinoLogger } from "pino";
import type { Logger as SdkLogger } from "matrix-js-sdk/lib/logger.js";
import { logger as sdkRootLogger } from "matrix-js-sdk/lib/logger.js";

function line(parts: unknown[]): string {
  return parts
    .map((p) => (p instanceof Error ? `${p.name}: ${p.message}` : typeof p === "string" ? p : safeJson(p)))
    .join(" ");
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function sdkLoggerFor(log: PinoLogger, namespace = "sdk"): SdkLogger {
  return {
    trace: (...msg: unknown[]) => log.trace({ sdk: namespace }, line(msg)),
    debug: (...msg: unknown[]) => log.trace({ sdk: namespace }, line(msg)),
    info: (...msg: unknown[]) => log.debug({ sdk: namespace }, line(msg)),
    warn: (...msg: unknown[]) => log.debug({ sdk: namespace }, line(msg)),
    error: (...msg: unknown[]) => log.warn({ sdk: namespace }, line(msg)),
    getChild: (child: string) => sdkLoggerFor(log, `${namespace}.${child}`),
  };
}

/** Modules of the SDK that log through its global logger would print to the console. */
export function quietSdkRootLogger(): void {
  (sdkRootLogger as unknown as { setLevel?: (level: string) => void }).setLevel?.("silent");
}
