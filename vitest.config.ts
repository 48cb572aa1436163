import { defineConfig } from "vitest/config";

// Two projects: `unit` needs nothing outside this repo; `e2e` talks to a real Synapse
// (started by .ci/run or by hand with ../shared/homeserver/synapse.sh start) and runs the
// built daemon. Both run on `npm test`; workers load the compiled JS, so build first.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["packages/*/src/**/*.test.ts", "plugins/*/src/**/*.test.ts", "plugins/*/test/**/*.test.ts"],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // One Synapse, one set of ports: run the e2e files one after another.
          fileParallelism: false,
        },
      },
    ],
  },
});
