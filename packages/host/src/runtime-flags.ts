// Node and glibc settings the daemon runs with, defined once. `botyard start` relaunches itself
// with them (same pid: execve) when it was started without, so every way of launching it (the
// bin, `npm start`, `node dist/main.js start`, a systemd unit) gets the same memory footprint.
//
// Measured with bench/matrix-ping.mjs (1 bot account + 1 echo instance):
// - --max-semi-space-size=1: V8's young generation grows to 2 x 16 MiB semi-spaces while the
//   host imports its modules and is never given back; capped at 1 MiB it stays small, about
//   20 MiB less RSS. A bot host allocates little per event, so the extra scavenges cost no
//   measurable latency. V8 flags are process-wide: plugin workers get the same cap.
//   --optimize-for-size (below) already keeps the young generation at its smallest (Node 24: a
//   larger cap changes nothing while it is on); this cap stays for an operator who turns it off.
// - --liftoff-only: fetch (undici) parses HTTP with llhttp in WebAssembly; after a few dozen
//   requests V8 recompiles it with TurboFan, about 12 MiB more, for no gain at a bot's request
//   rate. Liftoff (the baseline compiler) only. Plugins using WebAssembly run it unoptimised.
// - --optimize-for-size: V8 favours memory over speed (heap growth, code kept); about 7 MiB less,
//   and no latency measurably lost in the bench.
// - MALLOC_ARENA_MAX=2: every thread (plugin workers, the check threads, libuv, V8's platform
//   threads) may otherwise get its own glibc arena, kept after the thread ends; a few MiB less.
//
// Not set, measured side by side with bench/support/lean-ab.mjs (300 idle encrypted accounts per
// daemon, six 60 s windows each run, 2-core machine):
// - --initial-old-space-size=128: 1.1 % of a core instead of 1.6 %, the old generation's major
//   GCs being most of the difference; 35-65 MB more RSS, growing until each major GC. An operator
//   who wants it gives it in BOTYARD_NODE_FLAGS (README, "Many bot accounts").
// - --no-optimize-for-size: 1.20 % instead of 1.36 %, for 145 MB more RSS (323 vs 179 MB; 6 MB
//   more with one bot); with --max-semi-space-size=8 as well 1.14 %, 390 MB.
// - --no-flush-bytecode (1.54 % vs 1.60 %), --no-memory-reducer (1.60 %): no gain.
//   --minor-ms: worse (2.29 %).

/** V8/Node flags for the daemon's process. */
export const HOST_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=1", "--liftoff-only", "--optimize-for-size"];

/**
 * The operator's own Node/V8 flags, space-separated: given on the relaunch's command line, where
 * Node takes V8 flags that NODE_OPTIONS refuses (such as --initial-old-space-size). One with the
 * name of a HOST_NODE_FLAGS entry replaces it.
 */
export const OPERATOR_FLAGS_ENV = "BOTYARD_NODE_FLAGS";

/** Environment for the daemon's process; a value the operator set is kept. */
export const HOST_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: "2" };

/** Set in the relaunched process, so it never relaunches twice; set to "off" to not relaunch. */
export const RELAUNCH_MARK = "BOTYARD_RUNTIME_FLAGS";

/** `--max_semi_space_size=8`, `--no-liftoff-only` → `--max-semi-space-size`, `--liftoff-only`. */
const flagName = (flag: string) => flag.split("=")[0]!.replace(/_/g, "-").replace(/^--no-/, "--");

/** HOST_NODE_FLAGS with the operator's flags (OPERATOR_FLAGS_ENV) in place of the same names. */
export function wantedNodeFlags(operatorFlags = ""): string[] {
  const own = operatorFlags.split(/\s+/).filter(Boolean);
  for (const word of own) {
    if (!word.startsWith("--")) throw new Error(`${OPERATOR_FLAGS_ENV}: "${word}" is not a Node flag; give flags such as --initial-old-space-size=128, separated by spaces`);
  }
  const names = new Set(own.map(flagName));
  return [...HOST_NODE_FLAGS.filter((flag) => !names.has(flagName(flag))), ...own];
}

/** The wanted flags not already given (same name, any value) in execArgv or NODE_OPTIONS. */
export function missingNodeFlags(execArgv: readonly string[], nodeOptions = "", wanted: readonly string[] = HOST_NODE_FLAGS): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/).filter(Boolean)].map(flagName));
  return wanted.filter((flag) => !given.has(flagName(flag)));
}

/** HOST_ENV entries the environment does not set yet. */
export function missingEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(HOST_ENV).filter(([key]) => env[key] === undefined));
}

/**
 * Replaces this process by the same command with the wanted flags and HOST_ENV, when something is
 * missing and this Node has process.execve (22.15+, 23.11+; not on Windows). Returns only when
 * it does not relaunch. Call it before loading the host: nothing is running yet.
 */
export function relaunchWithRuntimeFlags(proc: NodeJS.Process = process): void {
  if (proc.env[RELAUNCH_MARK] !== undefined) return;
  const execve = (proc as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never }).execve;
  if (typeof execve !== "function") return;
  const flags = missingNodeFlags(proc.execArgv, proc.env.NODE_OPTIONS, wantedNodeFlags(proc.env[OPERATOR_FLAGS_ENV]));
  const env = missingEnv(proc.env);
  if (flags.length === 0 && Object.keys(env).length === 0) return;
  const script = proc.argv[1];
  if (!script) return;
  execve.call(proc, proc.execPath, [proc.execPath, ...proc.execArgv, ...flags, script, ...proc.argv.slice(2)], {
    ...proc.env,
    ...env,
    [RELAUNCH_MARK]: "1",
  });
}
