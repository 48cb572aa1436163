import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { trashFile } from "./trash.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "botyard-trash-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("trashFile", () => {
  it("moves the file to {trash}/{unix_time}-{reason}-{basename}, creating the trash folder", async () => {
    const file = join(dir, "x.plugin-v1.0.0.mbp");
    await writeFile(file, "zip");
    const target = await trashFile(file, "update", join(dir, "trash"));
    expect(existsSync(file)).toBe(false);
    const [name] = await readdir(join(dir, "trash"));
    expect(name).toMatch(/^\d{10}-update-x\.plugin-v1\.0\.0\.mbp$/);
    expect(target).toBe(join(dir, "trash", name!));
  });

  it("deletes the file when the trash is disabled", async () => {
    const file = join(dir, "y.mbp");
    await writeFile(file, "zip");
    expect(await trashFile(file, "delete", null)).toBeNull();
    expect(await readdir(dir)).toEqual([]);
  });
});
