// What must hold before the daemon touches anything (builds, the host database, plugins): no
// other botyard runs on the same data folder, and the API port is free. A second `npm start`
// used to open the live database and load every plugin before failing on the busy port with a
// stack trace; these checks fail first, with one line that says what to do.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";

/** A start that must not go ahead; main.ts prints its message as one line, without a stack. */
export class StartRefused extends Error {
  override name = "StartRefused";
}

/** The lock file's name in the data folder (the host database's folder). */
export const LOCK_FILE = "botyard.lock";

/** Held while the daemon runs; release() removes the lock file if it is still ours. */
export interface DataLock {
  readonly file: string;
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function lockPid(file: string): number | null {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return null;
  }
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

function busyMessage(dataDir: string, file: string, pid: number): string {
  return (
    `another botyard (pid ${pid}) is running on ${dataDir}; stop it first ` +
    `(if no botyard runs, remove the stale lock file ${file})`
  );
}

/**
 * The pid of another live process holding the data folder's lock, or null. The lock names this
 * process after `npm start` replaced itself by the daemon (execve keeps the pid): that is ours.
 */
export function dataLockHolder(dataDir: string): number | null {
  const pid = lockPid(path.join(dataDir, LOCK_FILE));
  return pid !== null && pid !== process.pid && isAlive(pid) ? pid : null;
}

/** Takes the data folder's lock (a file holding our pid); a stale lock of a dead process is replaced. */
export function takeDataLock(dataDir: string): DataLock {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, LOCK_FILE);
  // Two tries: the second after removing a lock whose process is gone.
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, "wx", 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new StartRefused(`cannot create the lock file ${file} (${(err as NodeJS.ErrnoException).code}); check the data folder's permissions`);
      }
      const holder = lockPid(file);
      if (holder !== null && holder !== process.pid && isAlive(holder)) throw new StartRefused(busyMessage(dataDir, file, holder));
      rmSync(file, { force: true });
      continue;
    }
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    return {
      file,
      release() {
        if (lockPid(file) === process.pid) rmSync(file, { force: true });
      },
    };
  }
  throw new StartRefused(`cannot take the lock file ${file}: another botyard is starting on ${dataDir}; try again`);
}

/** Resolves when hostname:port can be listened on; a busy or forbidden port is a StartRefused. */
export function assertPortFree(hostname: string, port: number, configPath: string): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (err: NodeJS.ErrnoException) => {
      const why = err.code === "EADDRINUSE" ? "is already in use (is botyard already running?)" : `cannot be listened on (${err.code ?? err.message})`;
      reject(new StartRefused(`port ${port} on ${hostname} ${why}; stop what uses it or set server.port in ${configPath}`));
    });
    probe.listen({ host: hostname, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** Both checks without taking the lock: for `npm start` before it builds (the daemon then takes it). */
export async function assertNothingRunning(options: { dataDir: string; hostname: string; port: number; configPath: string }): Promise<void> {
  const holder = dataLockHolder(options.dataDir);
  if (holder !== null) throw new StartRefused(busyMessage(options.dataDir, path.join(options.dataDir, LOCK_FILE), holder));
  await assertPortFree(options.hostname, options.port, options.configPath);
}
