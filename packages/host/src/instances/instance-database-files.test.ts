import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InstanceDatabaseFiles } from "./instance-database-files.js";

let dir: string;
let files: InstanceDatabaseFiles;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "botyard-dbfiles-"));
  files = new InstanceDatabaseFiles(dir);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("InstanceDatabaseFiles", () => {
  it("names <dir>/<id>.db and moves it with its -wal file, skipping the -shm that is not there", async () => {
    expect(files.pathOf("echo1")).toBe(join(dir, "echo1.db"));
    await writeFile(files.pathOf("old"), "main");
    await writeFile(`${files.pathOf("old")}-wal`, "wal");
    await writeFile(files.pathOf("other"), "other");
    await files.rename("old", "new");
    expect((await readdir(dir)).sort()).toEqual(["new.db", "new.db-wal", "other.db"]);
    expect(await readFile(`${files.pathOf("new")}-wal`, "utf8")).toBe("wal");
  });

  it("removes an instance's files and nothing else; an id too long to name a file has none to remove", async () => {
    for (const suffix of ["", "-wal", "-shm"]) await writeFile(`${files.pathOf("gone")}${suffix}`, "x");
    await writeFile(files.pathOf("kept"), "x");
    await files.remove("gone");
    await files.remove("x".repeat(300));
    await files.rename("y".repeat(300), "short");
    expect(await readdir(dir)).toEqual(["kept.db"]);
  });
});
