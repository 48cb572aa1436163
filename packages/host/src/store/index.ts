export { HostStore, StoreError } from "./host-store.js";
export { migrate, MIGRATIONS, LATEST_VERSION, type Migration } from "./migrations.js";
export type { ClientRow, InstanceRow, InstanceState, PluginRow } from "./types.js";
export { assertDatabaseWhole, DamagedDatabaseError, quickCheckProblems } from "./integrity.js";
