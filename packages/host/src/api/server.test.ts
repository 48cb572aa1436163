import { afterEach, describe, expect, it } from "vitest";
import { startApiHarness, type ApiHarness } from "../../test-support/api-harness.js";
import { startApiServer } from "./server.js";

let h: ApiHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("startApiServer", () => {
  it("says which address is taken when the port is in use", async () => {
    h = await startApiHarness();
    const deps = { config: h.config, store: h.store, logging: h.logging, registry: h.registry, supervisor: h.supervisor, clients: h.clients, version: "x" };
    await expect(startApiServer(deps, { port: h.server.port })).rejects.toThrow(`cannot listen on 127.0.0.1:${h.server.port}: the address is in use`);
  });

  it("stops answering after close()", async () => {
    h = await startApiHarness();
    await h.server.close();
    await expect(fetch(`${h.base}/_matrix/maubot/v1/features`)).rejects.toThrow();
  });
});
