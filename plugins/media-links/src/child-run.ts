// Runs an outside program (yt-dlp, ffprobe, ffmpeg) as a child process with a time limit, in its
// own process group so a kill also ends what it started (yt-dlp may run ffmpeg). Output is kept
// only up to a bound: a chatty tool must not grow the worker's memory.
import { spawn } from "node:child_process";

const OUTPUT_LIMIT = 64 * 1024;

export interface RunOptions {
  timeoutMs: number;
  cwd?: string;
  /** Aborting kills the process group (instance stopping, watchdog tripped). */
  signal?: AbortSignal;
}

export interface RunResult {
  /** null when the process was killed. */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
}

/** The program could not be started at all (not installed, not executable). */
export class ToolMissingError extends Error {
  override readonly name = "ToolMissingError";
  constructor(
    readonly command: string,
    readonly code: string,
  ) {
    super(`${command} could not be run (${code})`);
  }
}

function collector(): { add(chunk: Buffer): void; text(): string } {
  let kept = "";
  let dropped = false;
  return {
    add(chunk) {
      kept += chunk.toString("utf8");
      // Keep the end: a tool's last lines say why it stopped.
      if (kept.length > OUTPUT_LIMIT) {
        kept = kept.slice(-OUTPUT_LIMIT);
        dropped = true;
      }
    },
    text: () => (dropped ? `…${kept}` : kept),
  };
}

export function runTool(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PYTHONUNBUFFERED: "1" },
    });
    const out = collector();
    const err = collector();
    let timedOut = false;
    let aborted = false;
    let settled = false;
    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs);
    const onAbort = (): void => {
      aborted = true;
      killGroup();
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    child.stdout.on("data", (c: Buffer) => out.add(c));
    child.stderr.on("data", (c: Buffer) => err.add(c));
    const finish = (): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    };
    child.once("error", (e: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      finish();
      if (e.code === "ENOENT" || e.code === "EACCES") reject(new ToolMissingError(command, e.code));
      else reject(e);
    });
    child.once("close", (code) => {
      if (settled) return;
      settled = true;
      finish();
      resolve({ code, stdout: out.text(), stderr: err.text(), timedOut, aborted });
    });
  });
}

/** True when `command --version` (or `-version` for ffmpeg's tools) runs. */
export async function toolWorks(command: string, versionFlag: string): Promise<boolean> {
  try {
    const r = await runTool(command, [versionFlag], { timeoutMs: 15_000 });
    return r.code === 0;
  } catch (err) {
    if (err instanceof ToolMissingError) return false;
    throw err;
  }
}
