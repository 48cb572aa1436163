// Every API error comes from this one table (maubot's errcodes and statuses, see
// reference/maubot-survey.md §1.3) and is thrown as a HostError (services) or ApiError (the API layer);
// one middleware turns it into `{"errcode","error"}`.

export const ERRCODES = {
  body_not_json: 400,
  plugin_type_required: 400,
  primary_user_required: 400,
  bad_client_access_token: 400,
  bad_client_access_details: 400,
  bad_client_connection_details: 400,
  mxid_mismatch: 400,
  pid_mismatch: 400,
  username_or_password_missing: 400,
  query_missing: 400,
  sql_error: 400,
  invalid_auth: 401,
  auth_token_missing: 401,
  auth_token_invalid: 401,
  plugin_not_found: 404,
  client_not_found: 404,
  instance_not_found: 404,
  primary_user_not_found: 404,
  plugin_type_not_found: 404,
  resource_not_found: 404,
  server_not_found: 404,
  registration_secret_not_found: 404,
  registration_token_not_found: 404,
  plugin_has_no_database: 200,
  table_not_found: 200,
  method_not_allowed: 405,
  user_exists: 409,
  client_has_keys: 409,
  client_encryption_off: 409,
  bad_recovery_key: 400,
  plugin_exists: 409,
  plugin_in_use: 412,
  client_in_use: 412,
  plugin_invalid: 400,
  plugin_reload_fail: 500,
  bundle_too_large: 413,
  body_too_large: 413,
  invalid_id: 400,
  invalid_config: 400,
  sql_not_allowed: 400,
  sql_timeout: 400,
  rate_limited: 429,
  internal_server_error: 500,
  plugin_response_too_large: 502,
  invalid_server: 500,
  internal_crypto_error: 500,
  not_implemented: 501,
} as const satisfies Record<string, number>;

export type ErrCode = keyof typeof ERRCODES;

/**
 * A refusal by a service (bundles, instances, bot accounts): an errcode from the table and a
 * message written for the operator. Services throw it and know nothing of HTTP; the API turns it
 * into a status and `{"errcode","error"}` in one place (api/middleware/errors.ts).
 */
export class HostError extends Error {
  constructor(
    readonly errcode: ErrCode,
    message: string,
    /** Extra keys for the JSON body (e.g. `retry_after_ms`, `stacktrace`). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "HostError";
  }

  get status(): number {
    return ERRCODES[this.errcode];
  }

  toJSON(): Record<string, unknown> {
    return { errcode: this.errcode, error: this.message, ...this.extra };
  }
}

/** An error the API layer itself raises (bad request, missing auth). */
export class ApiError extends HostError {
  constructor(errcode: ErrCode, message: string, extra: Record<string, unknown> = {}) {
    super(errcode, message, extra);
    this.name = "ApiError";
  }
}
