// Interfaces between the host's modules, so each folder can be built and tested on its own
// and main.ts wires the real implementations together.
import type { ClientMethod, ClientParams, ClientResult, CommandHelp, MatrixEvent } from "@botyard/sdk";

/** Runs a plugin's Matrix call with the given bot account (implemented by src/matrix). */
export interface ClientCaller {
  call<M extends ClientMethod>(clientId: string, method: M, params: ClientParams<M>): Promise<ClientResult<M>>;
}

/** Receives room events from the Matrix side (implemented by src/instances). */
export interface RoomEventSink {
  /** An event the bot `clientId` received in a joined room, already filtered (not own, not backlog). */
  dispatch(clientId: string, event: MatrixEvent): void;
  /** Commands of every running instance on `clientId`, for the host-level `!help`. */
  commandsOf(clientId: string): Promise<Array<{ instanceId: string; commands: CommandHelp[] }>>;
}

/** Something the admin room should hear about (ERROR/CRITICAL records, or an instance's records at
 * or above its error_notification_level). */
export interface AdminNotice {
  level: "debug" | "info" | "warning" | "error" | "critical";
  /** What it concerns, e.g. "instance echo1" or "client @bot:hs". */
  subject: string;
  /** One line, no secrets, no stack trace. */
  message: string;
}
