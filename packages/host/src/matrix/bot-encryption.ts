// End-to-end encryption of one bot account, as the client's start and stop see it: open the
// account's crypto store, start the SDK's Rust crypto on it, close it again. A failure leaves
// the bot without encryption (unencrypted rooms keep working) and says what to do.
import type { MatrixClient } from "matrix-js-sdk/lib/client.js";
import type { CryptoApi, CryptoCallbacks } from "matrix-js-sdk/lib/crypto-api/index.js";
import type { Logger } from "pino";
import { describeError } from "./call-errors.js";
import { CryptoStore, CryptoStoreError } from "./crypto/crypto-store.js";
import { filterSyncChanges } from "./crypto/sync-changes-filter.js";
import { deviceHasPublishedKeys, foreignDeviceKeysMessage } from "./crypto/device-keys.js";
import { DeviceVerification, fingerprintOf, type TrustState } from "./crypto/verification.js";
import { discardSdkClient } from "./sdk-client.js";

export interface EncryptionOptions {
  /** Folder of the per-account crypto store files. */
  storeDir: string;
  /** crypto_db_pickle_key: the crypto stores are encrypted with keys derived from it. */
  pickleKey: string;
}

export interface EncryptionStart {
  /** The client to sync with: a new one when the device id had to be set first. */
  client: MatrixClient;
  /** Why encryption is off, for last_error; null when it runs. */
  error: string | null;
}

export class BotEncryption {
  /** The open crypto store while encryption runs. */
  private store: CryptoStore | null = null;
  private ownFingerprint: string | null = null;
  private readonly verification: DeviceVerification;

  constructor(
    private readonly options: EncryptionOptions,
    private readonly userId: string,
    private readonly log: Logger,
  ) {
    this.verification = new DeviceVerification(userId, log);
  }

  get running(): boolean {
    return this.store !== null;
  }

  /** For the SDK client's `cryptoCallbacks` (secret storage during verification calls). */
  get callbacks(): CryptoCallbacks {
    return this.verification.callbacks;
  }

  /** The device's verification state while encryption runs, else null. */
  get trustState(): TrustState | null {
    return this.running ? this.verification.trustState : null;
  }

  /** maubot's fingerprint (the device's ed25519 key in groups of four) while encryption runs, else null. */
  get fingerprint(): string | null {
    return this.running ? this.ownFingerprint : null;
  }

  /** maubot 0.6's generate_recovery_key: cross-signing, secret storage and key backup; the key is returned once. */
  generateRecoveryKey(client: MatrixClient, crypto: CryptoApi, deviceId: string): Promise<string> {
    return this.verification.generateRecoveryKey(client, crypto, deviceId);
  }

  /** maubot 0.6's verify: this device verified with the account's recovery key. */
  verifyWithRecoveryKey(client: MatrixClient, crypto: CryptoApi, deviceId: string, recoveryKey: string): Promise<TrustState> {
    return this.verification.verifyWithRecoveryKey(client, crypto, deviceId, recoveryKey);
  }

  /**
   * Starts encryption on `client` for the bot's device `deviceId` (whoami's). `newClient`
   * builds a client for that device: the SDK client must know it before crypto starts.
   */
  async start(client: MatrixClient, deviceId: string, clientDeviceId: string, newClient: (deviceId: string) => MatrixClient): Promise<EncryptionStart> {
    const { log } = this;
    if (!deviceId) {
      const error = "Encryption needs a device id: log the account in again (POST /client/auth/{server}/login) or set device_id";
      log.error(error);
      return { client, error };
    }
    if (deviceId !== clientDeviceId) {
      discardSdkClient(client);
      client = newClient(deviceId);
    }
    const store = new CryptoStore({ dir: this.options.storeDir, pickleKey: this.options.pickleKey, userId: this.userId, deviceId, log });
    try {
      const found = await store.open();
      if (!found && (await deviceHasPublishedKeys(client, this.userId, deviceId))) {
        throw new CryptoStoreError(foreignDeviceKeysMessage(deviceId));
      }
      this.store = store;
      await client.initRustCrypto({ useIndexedDB: true, cryptoDatabasePrefix: store.prefix, storageKey: store.storageKey() });
      // The device keys exist from here on: keep them before anything else can go wrong.
      await store.flush();
      const crypto = client.getCrypto();
      if (crypto) {
        filterSyncChanges(crypto);
        this.ownFingerprint = fingerprintOf((await crypto.getOwnDeviceKeys()).ed25519);
        await this.verification.refresh(crypto, deviceId);
        this.verification.watch(client, crypto, deviceId);
      }
      log.info({ device_id: deviceId, trust_state: this.verification.trustState }, "encryption on");
      return { client, error: null };
    } catch (err) {
      log.error({ err: describeError(err) }, "could not start encryption; syncing without it");
      // Whatever went wrong, the file stays as it was.
      this.store = null;
      store.abandon();
      discardSdkClient(client);
      return { client: newClient(deviceId), error: `Encryption is off for this account: ${describeError(err)}` };
    }
  }

  /** Closes the crypto store (it keeps what the SDK wrote); nothing to do when encryption is off. */
  async close(): Promise<void> {
    const store = this.store;
    this.store = null;
    this.verification.reset();
    this.ownFingerprint = null;
    await store?.close();
  }
}
