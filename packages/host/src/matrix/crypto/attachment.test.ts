import { createDecipheriv, createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { encryptAttachment, withEncryptedFile, type AttachmentKeys } from "./attachment.js";

/** What a receiving client does with the event's `file` (Matrix spec, encrypted attachments). */
function decrypt(ciphertext: Buffer, keys: AttachmentKeys): Buffer {
  expect(createHash("sha256").update(ciphertext).digest("base64").replace(/=+$/, "")).toBe(keys.hashes.sha256);
  const decipher = createDecipheriv("aes-256-ctr", Buffer.from(keys.key.k, "base64url"), Buffer.from(keys.iv, "base64"));
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

describe("encrypted attachments", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "botyard-attachment-test-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("encrypts bytes with a fresh key and an iv whose counter half is zero, as the spec asks", () => {
    const data = randomBytes(70_000);
    const a = encryptAttachment(data);
    const b = encryptAttachment(data);
    expect(a.ciphertext.equals(data)).toBe(false);
    expect(a.keys.key.k).not.toBe(b.keys.key.k);
    expect(a.keys).toMatchObject({ v: "v2", key: { kty: "oct", alg: "A256CTR", ext: true, key_ops: ["encrypt", "decrypt"] } });
    expect(a.keys.iv).not.toContain("=");
    expect(Buffer.from(a.keys.iv, "base64").subarray(8).equals(Buffer.alloc(8))).toBe(true);
    expect(decrypt(a.ciphertext, a.keys).equals(data)).toBe(true);
  });

  it("encrypts a file from disk into a temporary file that is gone afterwards", async () => {
    const source = path.join(dir, "video.bin");
    const data = randomBytes(1_000_003);
    writeFileSync(source, data);
    let seen = "";
    const plain = await withEncryptedFile(source, async (encrypted, keys) => {
      seen = encrypted;
      return decrypt(await readFile(encrypted), keys);
    });
    expect(plain.equals(data)).toBe(true);
    expect(existsSync(seen)).toBe(false);
  });
});
