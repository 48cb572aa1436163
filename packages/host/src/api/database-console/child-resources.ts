// What the host does to keep a console process from costing more than one query's worth:
// run it niced and first in line for the kernel's OOM killer, and read its resident memory.
// SQLite's own heap limit (PRAGMA hard_heap_limit) cannot do this: better-sqlite3 builds SQLite
// with SQLITE_DEFAULT_MEMSTATUS=0, which disables it, so the process is watched from outside.
import { readFileSync, writeFileSync } from "node:fs";
import { setPriority } from "node:os";

/**
 * Console processes run a little niced, so the host's API keeps its share of the CPU beside the
 * (at most 4) busy console processes; not more, or on a busy machine every query would time out.
 */
const NICENESS = 5;
const PAGE_BYTES = 4096;

/** Lowers the process's CPU priority and makes it the OOM killer's first choice (Linux). */
export function deprioritize(pid: number): void {
  try {
    setPriority(pid, NICENESS);
  } catch {
    // Not permitted here: the process cap still bounds the load.
  }
  try {
    // Raising a child's score needs no privilege; the kernel then kills it before the host.
    writeFileSync(`/proc/${pid}/oom_score_adj`, "1000");
  } catch {
    // Not Linux, or the process is gone already.
  }
}

/** The process's resident memory in bytes, or null where /proc is not there (or it exited). */
export function residentBytes(pid: number): number | null {
  try {
    const resident = Number(readFileSync(`/proc/${pid}/statm`, "utf8").split(" ")[1]);
    return Number.isFinite(resident) ? resident * PAGE_BYTES : null;
  } catch {
    return null;
  }
}
