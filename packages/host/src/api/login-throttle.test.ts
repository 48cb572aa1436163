import { describe, expect, it } from "vitest";
import { LoginThrottle } from "./login-throttle.js";

describe("LoginThrottle", () => {
  it("grants a burst of attempts, then one per refill interval, per address and user name", () => {
    let now = 0;
    const t = new LoginThrottle(3, 1000, () => now);
    expect([t.take("a", "root"), t.take("a", "root"), t.take("a", "root")]).toEqual([0, 0, 0]);
    expect(t.take("a", "root")).toBe(1000);
    expect(t.take("b", "root")).toBe(0);
    // Another name from the same address (one reverse proxy for everyone) is not locked out.
    expect(t.take("a", "alice")).toBe(0);
    now = 400;
    expect(t.take("a", "root")).toBe(600);
    now = 1000;
    expect(t.take("a", "root")).toBe(0);
    expect(t.take("a", "root")).toBe(1000);
  });

  it("bounds one address over all names at four times the burst", () => {
    const t = new LoginThrottle(2, 60_000, () => 0);
    const granted = Array.from({ length: 12 }, (_, i) => t.take("a", `name${i}`)).filter((w) => w === 0);
    expect(granted).toHaveLength(8);
    expect(t.take("a", "fresh")).toBeGreaterThan(0);
    expect(t.take("b", "fresh")).toBe(0);
  });

  it("does not count successful attempts", () => {
    const t = new LoginThrottle(2, 60_000, () => 0);
    for (let i = 0; i < 10; i++) {
      expect(t.take("a", "root")).toBe(0);
      t.giveBack("a", "root");
    }
  });
});
