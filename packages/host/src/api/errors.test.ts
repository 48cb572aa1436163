import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { ApiError } from "../errors.js";
import { AccountError } from "../matrix/index.js";
import { errorResponse } from "./middleware/errors.js";

function collectingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: "debug" }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
  return { log, lines };
}

describe("error middleware mapping", () => {
  it("keeps an ApiError's status, errcode and extra fields", () => {
    const { log } = collectingLogger();
    expect(errorResponse(new ApiError("rate_limited", "slow down", { retry_after_ms: 5 }), log)).toEqual({
      status: 429,
      body: { errcode: "rate_limited", error: "slow down", retry_after_ms: 5 },
    });
  });

  it("maps another module's typed error by its errcode and passes the homeserver's code through", () => {
    const { log } = collectingLogger();
    expect(errorResponse(new AccountError("user_exists", "taken", "M_USER_IN_USE", 400), log)).toEqual({
      status: 409,
      body: { errcode: "user_exists", error: "taken", matrix_errcode: "M_USER_IN_USE", http_status: 400 },
    });
  });

  it("turns anything else into a 500 internal_server_error without the stack, and logs it with the stack", () => {
    const { log, lines } = collectingLogger();
    const err = new Error("database is on fire at /secret/path");
    const res = errorResponse(err, log);
    expect(res).toEqual({ status: 500, body: { errcode: "internal_server_error", error: "Internal server error" } });
    expect(JSON.stringify(res)).not.toContain("/secret/path");
    expect(lines).toHaveLength(1);
    expect(JSON.stringify(lines[0])).toContain("database is on fire");
  });

  it("maps exposed HTTP errors to maubot's codes", () => {
    const { log } = collectingLogger();
    const http = (status: number) => Object.assign(new Error("x"), { status, expose: true });
    expect(errorResponse(http(405), log).body.errcode).toBe("method_not_allowed");
    expect(errorResponse(http(404), log).body.errcode).toBe("resource_not_found");
    expect(errorResponse(http(413), log).body.errcode).toBe("body_too_large");
    expect(errorResponse(http(418), log)).toMatchObject({ status: 418, body: { errcode: "unhandled_http_418" } });
  });
});
