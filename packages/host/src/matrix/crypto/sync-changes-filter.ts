// Leaves out the Rust crypto's pass over a /sync answer that brings it nothing new.
//
// Every /sync answer carries the device's one-time key counts, so matrix-js-sdk hands every
// answer to the OlmMachine's receiveSyncChanges. That call takes the Olm account out of the store
// by pickling and unpickling it (one curve multiplication per key it holds, about 50) and saves
// it again, even when nothing changed: for an idle encrypted account, every 30 s long poll. It
// was most of the idle CPU of a daemon with many encrypted accounts (issue 18).
//
// An answer is passed on when it has to-device events or device list changes, when its key
// counts or unused fallback keys differ from the last answer passed on, or when the last pass is
// older than the account's refresh interval. That refresh is all the time-based work the machine
// does in the pass: expiring verification requests nobody answered (a live verification brings
// to-device events, so it passes anyway) and its fallback key's weekly rotation. Each pass costs
// an idle account 6-11 ms of CPU (the Olm account's pickle round trip; bench/lean.mjs), so a
// 5-minute refresh was about a third of the idle CPU of 300 accounts, in waves (issue 18); an
// hour, spread over ±25 % per account, keeps the waves apart and an abandoned request at most
// that late.
//
// After each sync the SDK also asks the machine what it has to send (outgoingRequests(), which
// reads the store). After an answer that was left out, that pass is left out too when the
// machine's previous pass had nothing to send: nothing reached the machine since. Requests that
// failed are still there, so they are retried after the next sync, as the SDK intends; whatever
// the SDK queues elsewhere (encrypting, verification, device changes) it sends itself.
export const REFRESH_MS = 60 * 60_000;

/** One account's refresh interval: REFRESH_MS ± 25 %, so accounts started together refresh apart. */
export const jitteredRefreshMs = (random: () => number = Math.random): number => Math.round(REFRESH_MS * (0.75 + 0.5 * random()));

/** What matrix-js-sdk's sync gives its crypto layer (SyncCryptoCallbacks.processSyncChanges). */
export interface SyncCryptoChanges {
  toDeviceEvents: unknown[];
  deviceLists?: { changed?: string[]; left?: string[] };
  oneTimeKeysCounts?: Record<string, number>;
  unusedFallbackKeys?: string[];
}

type Process = (changes: SyncCryptoChanges) => Promise<unknown[]>;

/** The parts of matrix-js-sdk's RustCrypto wrapped here (internal: checked before use). */
interface CryptoBackend {
  processSyncChanges?: Process;
  onSyncCompleted?: (state: unknown) => void;
  olmMachine?: { outgoingRequests?: () => Promise<unknown[]> };
}

function keysOf(changes: SyncCryptoChanges): string {
  const counts = Object.entries(changes.oneTimeKeysCounts ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const fallback = changes.unusedFallbackKeys ? [...changes.unusedFallbackKeys].sort() : null;
  return JSON.stringify([counts, fallback]);
}

/** Whether an answer is worth the crypto's pass, given the last one passed on. */
export class SyncChangesFilter {
  private lastKeys: string | null = null;
  private lastPass = 0;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly refreshMs: number = jitteredRefreshMs(),
  ) {}

  needsPass(changes: SyncCryptoChanges): boolean {
    if (changes.toDeviceEvents.length > 0) return true;
    if ((changes.deviceLists?.changed?.length ?? 0) > 0 || (changes.deviceLists?.left?.length ?? 0) > 0) return true;
    return keysOf(changes) !== this.lastKeys || this.now() - this.lastPass >= this.refreshMs;
  }

  passed(changes: SyncCryptoChanges): void {
    this.lastKeys = keysOf(changes);
    this.lastPass = this.now();
  }
}

/**
 * Wraps the crypto backend's processSyncChanges (the object the SDK's sync calls) with a filter,
 * and its after-sync pass over outgoing requests; what the backend lacks is left as it is.
 */
export function filterSyncChanges(backend: object, filter = new SyncChangesFilter()): void {
  const target = backend as CryptoBackend;
  const original = target.processSyncChanges;
  if (typeof original !== "function") return;
  // The last answer was left out (read by the after-sync pass below).
  let skippedLast = false;
  target.processSyncChanges = async (changes) => {
    skippedLast = !filter.needsPass(changes);
    if (skippedLast) return [];
    const received = await original.call(backend, changes);
    filter.passed(changes);
    return received;
  };

  const machine = target.olmMachine;
  const outgoing = machine?.outgoingRequests;
  const completed = target.onSyncCompleted;
  if (!machine || typeof outgoing !== "function" || typeof completed !== "function") return;
  let nothingToSend = false;
  machine.outgoingRequests = async () => {
    nothingToSend = false;
    const requests = await outgoing.call(machine);
    nothingToSend = requests.length === 0;
    return requests;
  };
  target.onSyncCompleted = (state) => {
    if (skippedLast && nothingToSend) return;
    completed.call(backend, state);
  };
}
