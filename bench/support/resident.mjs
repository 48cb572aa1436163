// Where a process's resident memory is (Linux /proc), for the lean bench's measured children.
import { readFileSync } from "node:fs";

/** This process's resident set size in bytes (VmRSS). */
export const rssNow = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))[1]) * 1024;

/**
 * Resident memory by kind of mapping (/proc/self/smaps): the node binary's own pages, other files
 * (libraries, native addons), WebAssembly memories (a read-write mapping followed by V8's guard
 * reservation of 4 GiB or more), and the rest of the anonymous memory (V8 heaps and code, malloc,
 * thread stacks).
 */
export function residentByKind() {
  const maps = [];
  let cur = null;
  for (const line of readFileSync("/proc/self/smaps", "utf8").split("\n")) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) maps.push((cur = { size: parseInt(head[2], 16) - parseInt(head[1], 16), perms: head[3], name: head[4], rss: 0 }));
    else if (cur && line.startsWith("Rss:")) cur.rss = Number(/\d+/.exec(line)[0]) * 1024;
  }
  const out = { "node binary": 0, "other files": 0, "wasm memories": 0, anonymous: 0 };
  maps.forEach((m, i) => {
    const next = maps[i + 1];
    if (m.name === process.execPath || m.name.endsWith("/bin/node")) out["node binary"] += m.rss;
    else if (m.name.startsWith("/")) out["other files"] += m.rss;
    else if (m.perms.startsWith("rw") && next && next.perms.startsWith("---") && next.size >= 4 * 2 ** 30) out["wasm memories"] += m.rss;
    else out.anonymous += m.rss;
  });
  return out;
}
