// The verification state of a bot's own device, with mautrix's TrustState names (maubot's
// `trust_state`). Type-only, so the web admin page can import it.

/**
 * `unverified`: not cross-signed. `cross-signed-untrusted`: signed by the account's self-signing
 * key, but this device does not trust the master key. `cross-signed-trusted`: signed, and the
 * master key is trusted because this device holds it (after generate_recovery_key or verify).
 */
export type TrustState = "unverified" | "cross-signed-untrusted" | "cross-signed-trusted";
