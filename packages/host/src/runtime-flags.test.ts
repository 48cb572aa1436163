import { describe, expect, it } from "vitest";
import { HOST_ENV, HOST_NODE_FLAGS, missingEnv, missingNodeFlags, OPERATOR_FLAGS_ENV, relaunchWithRuntimeFlags, RELAUNCH_MARK, wantedNodeFlags } from "./runtime-flags.js";

describe("runtime flags", () => {
  it("adds every host flag the command line does not give", () => {
    expect(missingNodeFlags([])).toEqual([...HOST_NODE_FLAGS]);
    expect(missingNodeFlags(["--enable-source-maps"])).toEqual([...HOST_NODE_FLAGS]);
  });

  it("keeps an operator's own value of a flag, from execArgv or NODE_OPTIONS, in either spelling", () => {
    expect(missingNodeFlags(["--max_semi_space_size=8"])).not.toContain("--max-semi-space-size=1");
    expect(missingNodeFlags(["--max-semi-space-size=8"])).not.toContain("--max-semi-space-size=1");
    expect(missingNodeFlags([], "--inspect --max-semi-space-size=4")).not.toContain("--max-semi-space-size=1");
    expect(missingNodeFlags(["--no-liftoff-only"])).not.toContain("--liftoff-only");
    expect(missingNodeFlags([...HOST_NODE_FLAGS])).toEqual([]);
  });

  it("keeps environment values the operator set", () => {
    expect(missingEnv({})).toEqual(HOST_ENV);
    expect(missingEnv({ MALLOC_ARENA_MAX: "8" })).toEqual({});
  });

  it("takes the operator's flags, and refuses a word that is not one", () => {
    expect(wantedNodeFlags()).toEqual([...HOST_NODE_FLAGS]);
    expect(wantedNodeFlags("--initial-old-space-size=128")).toEqual([...HOST_NODE_FLAGS, "--initial-old-space-size=128"]);
    expect(wantedNodeFlags("--no-optimize-for-size")).toEqual(["--max-semi-space-size=1", "--liftoff-only", "--no-optimize-for-size"]);
    expect(() => wantedNodeFlags("initial-old-space-size=128")).toThrow(/BOTYARD_NODE_FLAGS: "initial-old-space-size=128" is not a Node flag/);
  });

  it("relaunches once with the missing flags and environment, and not when marked", () => {
    const calls: Array<{ file: string; args: string[]; env: NodeJS.ProcessEnv }> = [];
    const fake = (env: NodeJS.ProcessEnv, execArgv: string[]) =>
      ({
        env,
        execArgv,
        execPath: "/usr/bin/node",
        argv: ["/usr/bin/node", "/srv/main.js", "start", "-c", "x.yaml"],
        execve: (file: string, args: string[], e: NodeJS.ProcessEnv) => void calls.push({ file, args, env: e }),
      }) as unknown as NodeJS.Process;
    relaunchWithRuntimeFlags(fake({ PATH: "/bin" }, ["--enable-source-maps"]));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.file).toBe("/usr/bin/node");
    expect(calls[0]!.args).toEqual(["/usr/bin/node", "--enable-source-maps", ...HOST_NODE_FLAGS, "/srv/main.js", "start", "-c", "x.yaml"]);
    expect(calls[0]!.env).toMatchObject({ PATH: "/bin", ...HOST_ENV, [RELAUNCH_MARK]: "1" });

    // The operator's flags go on the command line too, one of the same name in place of ours.
    relaunchWithRuntimeFlags(fake({ [OPERATOR_FLAGS_ENV]: " --initial-old-space-size=128  --max-semi-space-size=4 " }, []));
    expect(calls).toHaveLength(2);
    expect(calls[1]!.args).toEqual(["/usr/bin/node", "--liftoff-only", "--optimize-for-size", "--initial-old-space-size=128", "--max-semi-space-size=4", "/srv/main.js", "start", "-c", "x.yaml"]);
    calls.pop();

    relaunchWithRuntimeFlags(fake({ [RELAUNCH_MARK]: "1" }, []));
    relaunchWithRuntimeFlags(fake({ [RELAUNCH_MARK]: "off" }, []));
    relaunchWithRuntimeFlags(fake({ ...HOST_ENV }, [...HOST_NODE_FLAGS]));
    expect(calls).toHaveLength(1);
  });
});
