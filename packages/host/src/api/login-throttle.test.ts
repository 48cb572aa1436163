import { describe, expect, it } from "vitest";
import { LoginThrottle } from "./login-throttle.js";

describe("LoginThrottle", () => {
  it("grants a burst of attempts, then one per refill interval, per address", () => {
    let now = 0;
    const t = new LoginThrottle(3, 1000, () => now);
    expect([t.take("a"), t.take("a"), t.take("a")]).toEqual([0, 0, 0]);
    expect(t.take("a")).toBe(1000);
    expect(t.take("b")).toBe(0);
    now = 400;
    expect(t.take("a")).toBe(600);
    now = 1000;
    expect(t.take("a")).toBe(0);
    expect(t.take("a")).toBe(1000);
  });

  it("does not count successful attempts", () => {
    const t = new LoginThrottle(2, 60_000, () => 0);
    for (let i = 0; i < 10; i++) {
      expect(t.take("a")).toBe(0);
      t.giveBack("a");
    }
  });
});
