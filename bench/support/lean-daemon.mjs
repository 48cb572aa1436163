// The daemon child of bench/lean.mjs (its --daemon mode), started and called over IPC, with its
// data folder and accounts; used by lean.mjs itself and by lean-ab.mjs.
import { fork } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HS, root, sleep, support } from "./matrix.mjs";

/** A data folder with a config: loopback API, the homeserver with its shared secret, defaults otherwise. */
export function leanDataDir({ tag, encryption = true }) {
  const dir = mkdtempSync(join(tmpdir(), "botyard-bench-lean-"));
  mkdirSync(join(dir, "plugins"));
  const config = [
    "database: ./host.db",
    "server:",
    "  port: 0",
    `  unshared_secret: bench-secret-${tag}-0123456789`,
    "admins:",
    "  root: bench-password",
    "homeservers:",
    "  synapse:",
    `    url: ${HS}`,
    `    secret: ${JSON.stringify(support.sharedSecret(HS))}`,
    ...(encryption ? [] : ["encryption:", "  enabled: false"]),
    "logging:",
    "  level: warn",
    "  console: off",
    "",
  ].join("\n");
  writeFileSync(join(dir, "config.yaml"), config);
  return dir;
}

/** Accounts `<prefix>x<i>x` for i in [from, to), registered by shared secret, ten at a time. */
export async function registerAccounts(prefix, from, to) {
  const accounts = [];
  for (let i = from; i < to; i += 10) {
    accounts.push(...(await Promise.all(Array.from({ length: Math.min(10, to - i) }, (_, k) => support.registerUser(`${prefix}x${i + k}x`, HS)))));
  }
  return accounts;
}

/**
 * Stores the accounts as client rows in `<dir>/host.db` with the measured build's HostStore, as an
 * earlier run would have; `more(store)` adds rows of its own (an instance).
 */
export function storeAccounts(HostStore, dir, accounts, more = () => {}) {
  const store = HostStore.open(join(dir, "host.db"));
  for (const a of accounts) store.putClient(support.clientRowFor(a, HS));
  more(store);
  store.close();
}

/** Resolves once every account of `ids` syncs in the daemon (polled each second), within 600 s. */
export async function waitAllSyncing(d, ids, label = "the daemon") {
  const deadline = Date.now() + 600_000;
  while ((await d.call("syncing", { ids })) < ids.length) {
    if (Date.now() > deadline) throw new Error(`${label}: not all ${ids.length} accounts synced within 600 s`);
    await sleep(1000);
  }
}

/**
 * Forks `bench/lean.mjs --daemon <dir>/config.yaml` with the given node flags and environment;
 * resolves once the daemon has started with `{ child, call, port }` (call(op, args) runs one of its
 * handlers).
 */
export async function startLeanDaemon(dir, { execArgv, env }) {
  // The flags are given here, so the daemon must not relaunch itself with its own.
  const { value, ...child } = await forkMeasured(join(root, "bench/lean.mjs"), ["--daemon", join(dir, "config.yaml")], { cwd: dir, execArgv, env: { ...env, BOTYARD_RUNTIME_FLAGS: "off" } });
  return { ...child, port: value.port };
}

/**
 * Forks a measured child (`script args`) that answers `{ id, op, args }` messages with `{ id, ok,
 * value | error }` and says it is ready with id 0; resolves with `{ child, call, value }` (value:
 * what its ready message carried).
 */
export async function forkMeasured(script, args, { cwd, execArgv, env }) {
  const child = fork(script, args, { cwd, execArgv, env, stdio: ["ignore", "ignore", "inherit", "ipc"] });
  const waiting = new Map();
  let next = 1;
  let started;
  const ready = new Promise((resolve, reject) => {
    started = { resolve, reject };
    child.once("exit", (code) => reject(new Error(`${script} exited (${code}) before it was ready`)));
  });
  child.on("message", (msg) => {
    if (msg.id === 0) return started.resolve(msg.value);
    const w = waiting.get(msg.id);
    waiting.delete(msg.id);
    if (msg.ok) w.resolve(msg.value);
    else w.reject(new Error(msg.error));
  });
  const call = (op, args) =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      child.send({ id, op, args });
    });
  return { child, call, value: await ready };
}

/** Stops the daemon (its own stop, then SIGKILL after 10 s). */
export async function stopLeanDaemon(d) {
  const exited = new Promise((r) => d.child.once("exit", r));
  await d.call("stop").catch(() => undefined);
  await Promise.race([exited, sleep(10_000)]);
  if (d.child.exitCode === null) d.child.kill("SIGKILL");
}
