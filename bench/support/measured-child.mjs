// The child side of forkMeasured (lean-daemon.mjs): answers `{ id, op, args }` with
// `{ id, ok, value | error }` from its handlers, says it is ready with id 0, and exits when the
// bench goes away. Loads nothing else, so it adds nothing to what the child measures.

/** Serves `handlers` over IPC and sends `ready` as the ready message's value. */
export function serveMeasured(handlers, ready) {
  process.on("message", async ({ id, op, args }) => {
    try {
      process.send({ id, ok: true, value: await handlers[op](args ?? {}) });
    } catch (err) {
      process.send({ id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  });
  // The bench ended or crashed: do not stay behind.
  process.on("disconnect", () => process.exit(1));
  process.send({ id: 0, ok: true, value: ready });
}
