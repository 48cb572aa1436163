// One bounded shutdown step: the daemon's stop must end within 5 s even when a part hangs.
import type { Logger } from "pino";

/** Waits for `work`, at most `ms` when given; a step that overruns or fails is logged and left behind. */
export async function stopWithin(log: Logger | undefined, what: string, work: Promise<unknown>, ms?: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    if (ms !== undefined) timer = setTimeout(() => resolve("timeout"), ms);
  });
  try {
    const result = await Promise.race([work.then(() => "done" as const), timeout]);
    if (result === "timeout") log?.warn(`stopping ${what} took longer than ${ms} ms; going on`);
  } catch (err) {
    log?.error({ err }, `error while stopping ${what}`);
  } finally {
    clearTimeout(timer);
  }
}
