// Device verification of bot accounts, as maubot 0.6 (client.py): generate_recovery_key sets up
// cross-signing, secret storage and key backup and answers the recovery key once (201); verify
// takes `{"recovery_key"}` and verifies the client's device with it. The work is done by
// matrix/crypto/verification.ts; these routes check the request and the client.
import type { Router } from "@koa/router";
import { ApiError } from "../../errors.js";
import type { ClientRow } from "../../store/index.js";
import { readJsonObject } from "../body.js";
import type { RouteContext } from "../route-context.js";
import type { RecoveryKeyJson } from "../types.js";
import { clientRowOf, optional } from "../validate.js";

/** A recovery key is 48 base58 characters in groups of four; spaces and some slack allowed. */
const MAX_RECOVERY_KEY_CHARS = 200;

export function registerClientCryptoRoutes(router: Router, rc: RouteContext): void {
  const { deps } = rc;
  if (!deps.config.api_features.client) return;

  const mustGet = (id: string): ClientRow => clientRowOf(deps.store, id);

  router.post("/client/:id/generate_recovery_key", async (ctx) => {
    const row = mustGet(ctx.params.id!);
    const recoveryKey = await deps.clients.generateRecoveryKey(row.id);
    rc.log.info({ client: row.id }, `generated a recovery key for ${row.id}`);
    const body: RecoveryKeyJson = { success: true, recovery_key: recoveryKey };
    ctx.status = 201;
    ctx.body = body;
  });

  router.post("/client/:id/verify", async (ctx) => {
    const row = mustGet(ctx.params.id!);
    const body = await readJsonObject(ctx, rc.limits.jsonBytes);
    const recoveryKey = optional(body, "recovery_key", "string");
    if (!recoveryKey || recoveryKey.length > MAX_RECOVERY_KEY_CHARS) {
      throw new ApiError("bad_recovery_key", "recovery_key is required: the key generate_recovery_key returned");
    }
    const trust = await deps.clients.verifyWithRecoveryKey(row.id, recoveryKey);
    rc.log.info({ client: row.id, trust_state: trust }, `verified ${row.id} with its recovery key`);
    ctx.body = { success: true };
  });
}
