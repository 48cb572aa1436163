// A registry and supervisor on a temporary folder (createHost with the real HostStore), a
// recording ClientCaller instead of bot accounts, and a pino logger whose records the test can read.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import type { PluginRegistry } from "../src/bundles/plugin-registry.js";
import { createHost, type SupervisorTunables } from "../src/host.js";
import type { InstanceSupervisor } from "../src/instances/instance-supervisor.js";
import type { HostStore } from "../src/store/host-store.js";
import type { ClientRow, InstanceRow, InstanceState } from "../src/store/types.js";
import { hostConfigIn } from "./host-config.js";
import { RecordingClientCaller } from "./plugin-fixtures.js";

export interface TestHost {
  dir: string;
  store: HostStore;
  registry: PluginRegistry;
  supervisor: InstanceSupervisor;
  clients: RecordingClientCaller;
  logs: Array<Record<string, unknown>>;
  dirs: { upload: string; trash: string; code: string; databases: string };
  addClient(id: string): void;
  instanceRow(id: string, type: string, overrides?: Partial<InstanceRow>): InstanceRow;
  /** Resolves when instance `id` reaches `state` (rejects after `timeoutMs`). */
  waitForState(id: string, state: InstanceState, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function createTestHost(options: SupervisorTunables = {}): Promise<TestHost> {
  const dir = await mkdtemp(join(tmpdir(), "botyard-instances-"));
  const config = hostConfigIn(dir);
  const dirs = { upload: config.plugin_directories.upload, trash: join(dir, "trash"), code: join(dir, "plugin-code"), databases: config.plugin_databases.sqlite };
  const logs: Array<Record<string, unknown>> = [];
  const logger = pino({ level: "trace" }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const host = await createHost(config, { logging: { logger }, matrix: new RecordingClientCaller(), supervisor: options });
  const { store, registry, supervisor, clients } = host;
  const waitForState = (id: string, state: InstanceState, timeoutMs = 15_000) =>
    new Promise<void>((resolve, reject) => {
      if (supervisor.status(id).state === state) return resolve();
      const timer = setTimeout(() => {
        supervisor.off("state", onState);
        reject(new Error(`instance ${id} did not reach ${state} (is ${JSON.stringify(supervisor.status(id))})`));
      }, timeoutMs);
      const onState = (changed: string, now: InstanceState) => {
        if (changed !== id || now !== state) return;
        clearTimeout(timer);
        supervisor.off("state", onState);
        resolve();
      };
      supervisor.on("state", onState);
    });
  return {
    dir,
    store,
    registry,
    supervisor,
    clients,
    logs,
    dirs,
    addClient(id) {
      const row: ClientRow = {
        id, homeserver: "http://127.0.0.1:1", access_token: "t", device_id: "D", enabled: true, next_batch: "", filter_id: "",
        sync: true, autojoin: false, online: true, displayname: "disable", avatar_url: "disable",
      };
      store.putClient(row);
    },
    instanceRow(id, type, overrides = {}) {
      return { id, type, enabled: true, primary_user: "@bot:test", config: "", database_engine: "sqlite", isolated: false, state: "stopped", last_error: null, ...overrides };
    },
    waitForState,
    async close() {
      await host.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
