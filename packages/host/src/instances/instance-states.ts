// What the host knows of each instance while it runs: its state and last error, the row it was
// started with and the worker it runs in. Every change of state is logged (one line), stored and
// announced; which change happens when is the supervisor's to decide.
import type { Logger } from "pino";
import { instanceLogger } from "../logging/logging.js";
import type { InstanceRow, InstanceState } from "../store/types.js";

export interface InstanceRuntime {
  state: InstanceState;
  lastError: string | null;
  /** Snapshot of the row the instance was started with. */
  row: InstanceRow | null;
  /** The fleet's key of the worker it runs in, or null. */
  workerKey: string | null;
}

export interface InstanceStatus {
  state: InstanceState;
  lastError: string | null;
}

export interface InstanceStatesOptions {
  /** Where each state is stored (HostStore). */
  records: { setInstanceState(id: string, state: InstanceState, lastError: string | null): unknown };
  logger: Logger;
  /** Called after every change, stored or not. */
  announce(id: string, state: InstanceState, lastError: string | null): void;
}

function stopped(): InstanceRuntime {
  return { state: "stopped", lastError: null, row: null, workerKey: null };
}

export class InstanceStates {
  private readonly runtimes = new Map<string, InstanceRuntime>();

  constructor(private readonly options: InstanceStatesOptions) {}

  get(id: string): InstanceRuntime | undefined {
    return this.runtimes.get(id);
  }

  /** The runtime of `id`, a stopped one made for it if it has none. */
  of(id: string): InstanceRuntime {
    let rt = this.runtimes.get(id);
    if (!rt) {
      rt = stopped();
      this.runtimes.set(id, rt);
    }
    return rt;
  }

  status(id: string): InstanceStatus {
    const rt = this.runtimes.get(id);
    return rt ? { state: rt.state, lastError: rt.lastError } : { state: "stopped", lastError: null };
  }

  entries(): IterableIterator<[string, InstanceRuntime]> {
    return this.runtimes.entries();
  }

  /** A new instance: stopped, nothing known of it yet. */
  reset(id: string): void {
    this.runtimes.set(id, stopped());
  }

  delete(id: string): void {
    this.runtimes.delete(id);
  }

  /** `oldId`'s state moves to `newId`; it runs nowhere until it is started there. */
  rename(oldId: string, newId: string): void {
    const rt = this.of(oldId);
    this.runtimes.delete(oldId);
    this.runtimes.set(newId, { ...rt, row: null, workerKey: null });
  }

  async set(id: string, state: InstanceState, lastError: string | null): Promise<void> {
    const rt = this.of(id);
    const previous = rt.state;
    rt.state = state;
    rt.lastError = lastError;
    const log = instanceLogger(this.options.logger, id);
    // One line per change (the stored last_error keeps a YAML error's snippet for the API).
    const summary = lastError?.split("\n")[0]!.replace(/:\s*$/, "");
    if (state === "failed") log.error({ state, previous, error: lastError }, `instance ${id}: ${previous} → ${state}: ${summary}`);
    else if (state === previous) log.info({ state, error: lastError ?? undefined }, `instance ${id} stays ${state}${summary ? `: ${summary}` : ""}`);
    else log.info({ state, previous, error: lastError ?? undefined }, `instance ${id}: ${previous} → ${state}${summary ? ` (${summary})` : ""}`);
    try {
      await this.options.records.setInstanceState(id, state, lastError);
    } catch (err) {
      log.warn({ err: (err as Error).message }, "could not store the instance state");
    }
    this.options.announce(id, state, lastError);
  }
}
