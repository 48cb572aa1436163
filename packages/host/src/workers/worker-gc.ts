// Runs inside a plugin worker: a full garbage collection soon, after the runtime let go of a large
// web body. An idle worker does not collect by itself: a refused 300 MB answer stayed in the
// process (RSS +297 MB, measured) until the plugin next allocated enough to start a collection.
// `gc` is not exposed by default, and V8 flags cannot be given to a worker (Worker execArgv
// refuses them), so the flag is set at runtime and `gc` read from a fresh context, once.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let collect: (() => void) | null = null;
let pending: NodeJS.Timeout | null = null;

/** Collects once, shortly (the plugin's last references to the body go when its handler returns). */
export function collectGarbageSoon(): void {
  if (pending) return;
  pending = setTimeout(() => {
    pending = null;
    if (!collect) {
      setFlagsFromString("--expose-gc");
      collect = runInNewContext("gc") as () => void;
    }
    collect();
  }, 50);
  pending.unref();
}
