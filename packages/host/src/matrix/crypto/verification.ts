// Device verification as maubot 0.6: a recovery key for the bot account (cross-signing keys and
// the key backup key kept in secret storage on the homeserver, encrypted with it), and a device of
// the account verified with that key (its cross-signing keys read back from secret storage, the
// device signed with them). Built on matrix-js-sdk's CryptoApi; the trust state reported uses
// mautrix's names (maubot's `trust_state`).
//
// The secret storage key is held in memory only while a generate or verify call runs.
import type { MatrixClient } from "matrix-js-sdk/lib/client.js";
import type { CryptoApi, CryptoCallbacks } from "matrix-js-sdk/lib/crypto-api/index.js";
import { CryptoEvent } from "matrix-js-sdk/lib/crypto-api/CryptoEvent.js";
import { decodeRecoveryKey } from "matrix-js-sdk/lib/crypto-api/recovery-key.js";
import { MatrixError } from "matrix-js-sdk/lib/http-api/index.js";
import type { Logger } from "pino";
import { HostError } from "../../errors.js";
import type { TrustState } from "./trust-state.js";

export type { TrustState };

/** Longest wait for the device's new signature to come back from the homeserver (a sync and a key query). */
const SETTLE_TIMEOUT_MS = 15_000;

function errorText(err: unknown): string {
  if (err instanceof MatrixError) return `${err.errcode ?? `HTTP ${err.httpStatus}`}: ${err.data?.error ?? err.message}`;
  return err instanceof Error ? err.message : String(err);
}

/** One bot account's verification state and calls. */
export class DeviceVerification {
  private secretKey: { id: string; privateKey: Uint8Array<ArrayBuffer> } | null = null;
  private trust: TrustState | null = null;

  /** For the MatrixClient's `cryptoCallbacks`: secret storage reads and writes use the key of the running call. */
  readonly callbacks: CryptoCallbacks = {
    getSecretStorageKey: async ({ keys }) => (this.secretKey && keys[this.secretKey.id] ? [this.secretKey.id, this.secretKey.privateKey] : null),
    cacheSecretStorageKey: (keyId, _info, privateKey) => {
      this.secretKey = { id: keyId, privateKey };
    },
  };

  constructor(
    private readonly userId: string,
    private readonly log: Logger,
  ) {}

  /** The last computed trust state of the device (null before crypto has started). */
  get trustState(): TrustState | null {
    return this.trust;
  }

  /** Recomputes the trust state of the bot's device from the crypto store. */
  async refresh(crypto: CryptoApi, deviceId: string): Promise<TrustState> {
    const status = await crypto.getDeviceVerificationStatus(this.userId, deviceId);
    this.trust = status?.crossSigningVerified ? "cross-signed-trusted" : status?.signedByOwner ? "cross-signed-untrusted" : "unverified";
    return this.trust;
  }

  /**
   * Keeps the trust state current: a signature on the device (made here or by another device of
   * the account) reaches the crypto store with the next key query of the account, after a sync.
   */
  watch(client: MatrixClient, crypto: CryptoApi, deviceId: string): void {
    client.on(CryptoEvent.DevicesUpdated, (users) => {
      if (!users.includes(this.userId)) return;
      this.refresh(crypto, deviceId).catch((err: unknown) => this.log.debug({ err: errorText(err) }, "could not read the trust state"));
    });
  }

  /** Waits (bounded) until the device counts as cross-signed: the signature just uploaded comes back with a key query. */
  private async settle(client: MatrixClient, crypto: CryptoApi, deviceId: string, timeoutMs = SETTLE_TIMEOUT_MS): Promise<void> {
    if ((await this.refresh(crypto, deviceId)) === "cross-signed-trusted") return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        client.off(CryptoEvent.DevicesUpdated, onUpdate);
        resolve();
      };
      const onUpdate = (users: string[]): void => {
        if (!users.includes(this.userId)) return;
        void this.refresh(crypto, deviceId).then((t) => t === "cross-signed-trusted" && done(), done);
      };
      const timer = setTimeout(done, timeoutMs);
      client.on(CryptoEvent.DevicesUpdated, onUpdate);
    });
  }

  /** Forgets the trust state (crypto stopped). */
  reset(): void {
    this.trust = null;
    this.secretKey = null;
  }

  /**
   * Creates cross-signing keys, secret storage and a key backup for the account, signs this
   * device, and returns the recovery key (shown once, kept nowhere). Refused when the account
   * already has cross-signing keys, as in maubot (client_has_keys).
   */
  async generateRecoveryKey(client: MatrixClient, crypto: CryptoApi, deviceId: string): Promise<string> {
    if (await crypto.userHasCrossSigningKeys(this.userId, true)) {
      throw new HostError(
        "client_has_keys",
        `${this.userId} already has cross-signing keys: verify this device with the account's recovery key (POST /client/{id}/verify)`,
      );
    }
    const generated = await crypto.createRecoveryKeyFromPassphrase();
    if (!generated.encodedPrivateKey) throw new HostError("internal_crypto_error", "the crypto library made a recovery key without its text form");
    try {
      // The first upload of cross-signing keys needs no user-interactive auth on Synapse (and
      // per MSC3967); a server that asks for it anyway gets the error below.
      await crypto.bootstrapCrossSigning({ authUploadDeviceSigningKeys: (makeRequest) => makeRequest(null) });
      await crypto.bootstrapSecretStorage({
        createSecretStorageKey: async () => generated,
        setupNewSecretStorage: true,
        setupNewKeyBackup: true,
      });
    } catch (err) {
      if (err instanceof MatrixError && err.httpStatus === 401) {
        throw new HostError(
          "internal_crypto_error",
          `The homeserver wants interactive authentication to upload the cross-signing keys of ${this.userId} (${errorText(err)}); ` +
            `set cross-signing up from another client of the account (e.g. Element), then verify this device with its recovery key`,
        );
      }
      throw new HostError("internal_crypto_error", `Could not set up cross-signing and key backup: ${errorText(err)}`);
    } finally {
      this.secretKey = null;
    }
    await this.settle(client, crypto, deviceId);
    this.log.info({ trust_state: this.trust }, "cross-signing and key backup set up; recovery key generated");
    return generated.encodedPrivateKey;
  }

  /** Verifies this device with the account's recovery key: imports the cross-signing keys and signs the device. */
  async verifyWithRecoveryKey(client: MatrixClient, crypto: CryptoApi, deviceId: string, recoveryKey: string): Promise<TrustState> {
    let privateKey: Uint8Array<ArrayBuffer>;
    try {
      privateKey = decodeRecoveryKey(recoveryKey);
    } catch (err) {
      throw new HostError("bad_recovery_key", `Not a recovery key (${errorText(err)}): give the key generate_recovery_key returned, spaces allowed`);
    }
    const stored = await client.secretStorage.getKey();
    if (!stored) {
      throw new HostError("internal_crypto_error", `${this.userId} has no recovery key: generate one (POST /client/{id}/generate_recovery_key)`);
    }
    const [keyId, keyInfo] = stored;
    if (!(await client.secretStorage.checkKey(privateKey, keyInfo))) {
      throw new HostError("bad_recovery_key", `That recovery key is not the current one of ${this.userId}`);
    }
    this.secretKey = { id: keyId, privateKey };
    try {
      // The public cross-signing keys must be known before the private ones can be imported.
      await crypto.userHasCrossSigningKeys(this.userId, true);
      await crypto.bootstrapCrossSigning({});
      await this.restoreKeyBackup(crypto);
    } catch (err) {
      throw new HostError("internal_crypto_error", `Could not verify with the recovery key: ${errorText(err)}`);
    } finally {
      this.secretKey = null;
    }
    await this.settle(client, crypto, deviceId);
    this.log.info({ trust_state: this.trust }, "device verified with the recovery key");
    return this.trust ?? "unverified";
  }

  /** Takes the key backup's key from secret storage too (maubot 0.6 has no key backup; nothing fails without it). */
  private async restoreKeyBackup(crypto: CryptoApi): Promise<void> {
    try {
      await crypto.loadSessionBackupPrivateKeyFromSecretStorage();
      await crypto.checkKeyBackupAndEnable();
    } catch (err) {
      this.log.info({ err: errorText(err) }, "no key backup key in secret storage; the device is verified without it");
    }
  }
}

/** maubot's `fingerprint`: the device's ed25519 key in groups of four. */
export function fingerprintOf(ed25519: string): string {
  return ed25519.match(/.{1,4}/g)?.join(" ") ?? "";
}
