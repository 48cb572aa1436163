// A small real RoomEventSink for tests of the Matrix side alone: records every dispatched event
// and answers `!ping` through the pool, like the echo plugin would.
import type { CommandHelp, MatrixEvent } from "@botyard/sdk";
import type { ClientCaller, RoomEventSink } from "../../packages/host/src/ports.js";

export class RecordingSink implements RoomEventSink {
  readonly events: Array<{ clientId: string; event: MatrixEvent }> = [];
  caller: ClientCaller | null = null;
  commands: Array<{ instanceId: string; commands: CommandHelp[] }> = [];
  private waiters: Array<() => void> = [];

  constructor(private readonly label = "pong") {}

  dispatch(clientId: string, event: MatrixEvent): void {
    this.events.push({ clientId, event });
    for (const w of this.waiters.splice(0)) w();
    const body = event.content.body;
    if (event.type === "m.room.message" && typeof body === "string" && body.startsWith("!ping") && this.caller) {
      void this.caller
        .call(clientId, "sendText", { roomId: event.room_id, text: this.label, replyTo: event.event_id, msgtype: "m.notice" })
        .catch(() => undefined);
    }
  }

  async commandsOf(): Promise<Array<{ instanceId: string; commands: CommandHelp[] }>> {
    return this.commands;
  }

  saw(eventId: string): boolean {
    return this.events.some((e) => e.event.event_id === eventId);
  }

  async waitFor(eventId: string, timeoutMs = 20_000): Promise<MatrixEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find((e) => e.event.event_id === eventId);
      if (found) return found.event;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`sink did not receive ${eventId} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
