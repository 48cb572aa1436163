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
  // The SDK logs several lines per request; format a line only when its level is enabled.
  const at = (level: "trace" | "debug" | "warn") => (...msg: unknown[]) => {
    if (log.isLevelEnabled(level)) log[level]({ sdk: namespace }, line(msg));
  };
  return {
    trace: at("trace"),
    debug: at("trace"),
    info: at("debug"),
    warn: at("debug"),
    error: at("warn"),
    getChild: (child: string) => sdkLoggerFor(log, `${namespace}.${child}`),
  };
}

/** Modules of the SDK that log through its global logger would print to the console. */
export function quietSdkRootLogger(): void {
  (sdkRootLogger as unknown as { setLevel?: (level: string) => void }).setLevel?.("silent");
}
