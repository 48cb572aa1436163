// The floor under botyard's one-bot RSS (issue 18): one matrix-js-sdk bot on Node and nothing of
// botyard (no API, no plugin worker, no SQLite, no config, no logging). It joins the rooms it is
// invited to and answers `!ping` with a reply, as the echo plugin does, with the Rust crypto in
// memory when asked. bench/lean.mjs forks it with the host's flags and runs the same journey.
//   node sdk-floor.mjs <homeserver> <user id> <access token> <device id> crypto|plain
import { ClientEvent, MatrixClient } from "matrix-js-sdk/lib/client.js";
import { RoomEvent } from "matrix-js-sdk/lib/models/room.js";
import { MemoryStore } from "matrix-js-sdk/lib/store/memory.js";
import { SyncState } from "matrix-js-sdk/lib/sync.js";
import { serveMeasured } from "./measured-child.mjs";
import { residentByKind, rssNow } from "./resident.mjs";

const [baseUrl, userId, accessToken, deviceId, crypto] = process.argv.slice(2);
const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, getChild: () => quiet };
const client = new MatrixClient({ baseUrl, userId, accessToken, deviceId, store: new MemoryStore(), timelineSupport: false, logger: quiet });
if (crypto === "crypto") await client.initRustCrypto({ useIndexedDB: false });

const startedAt = Date.now();
client.on(RoomEvent.MyMembership, (room, membership) => {
  if (membership === "invite") void client.joinRoom(room.roomId);
});
client.on(RoomEvent.Timeline, (event, room, toStart) => {
  if (toStart || !room || event.getSender() === userId || event.getTs() < startedAt) return;
  if (event.getType() !== "m.room.message" || event.getContent().body !== "!ping") return;
  void client.sendEvent(room.roomId, "m.room.message", {
    msgtype: "m.notice",
    body: "Pong!",
    "m.relates_to": { "m.in_reply_to": { event_id: event.getId() } },
    "m.mentions": {},
  });
});
const synced = new Promise((resolve) => client.on(ClientEvent.Sync, (state) => state === SyncState.Prepared && resolve()));
await client.startClient({ initialSyncLimit: 1, lazyLoadMembers: true, threadSupport: false });
await synced;

serveMeasured(
  {
    resident: () => ({ rss: rssNow(), resident: residentByKind(), heap: process.memoryUsage() }),
    stop: () => {
      client.stopClient();
      setTimeout(() => process.exit(0), 100);
      return true;
    },
  },
  { rss: rssNow() },
);
