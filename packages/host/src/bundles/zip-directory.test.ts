import { describe, expect, it } from "vitest";
import { makeZip } from "../../test-support/plugin-fixtures.js";
import { checkZipDirectory } from "./zip-directory.js";

/** The zip with its end record's entry counts replaced (they sit 8 and 10 bytes into the 22-byte record at the end). */
function withDeclaredCount(zip: Buffer, count: number): Buffer {
  const out = Buffer.from(zip);
  out.writeUInt16LE(count, out.length - 22 + 8);
  out.writeUInt16LE(count, out.length - 22 + 10);
  return out;
}

describe("checkZipDirectory", () => {
  const zip = makeZip({ "a.txt": "hello", "b/c.txt": "x".repeat(1000) });

  it("reads the entry count and unpacked size from the central directory", () => {
    expect(checkZipDirectory(zip)).toEqual({ entries: 2, uncompressedBytes: 1005 });
  });

  it("refuses a declared count over 1,000 before reading any entry (bundle_too_large)", () => {
    expect(() => checkZipDirectory(withDeclaredCount(zip, 5000))).toThrow(expect.objectContaining({ errcode: "bundle_too_large", message: expect.stringMatching(/5000 entries/) }));
  });

  it("refuses a count that does not match the entries present (plugin_invalid)", () => {
    expect(() => checkZipDirectory(withDeclaredCount(zip, 1))).toThrow(expect.objectContaining({ errcode: "plugin_invalid", message: expect.stringMatching(/says 1 entries but holds 2/) }));
  });

  it("refuses a file without an end record", () => {
    expect(() => checkZipDirectory(zip.subarray(0, zip.length - 10))).toThrow(/not a zip archive \(no end of central directory record\)/);
  });
});
