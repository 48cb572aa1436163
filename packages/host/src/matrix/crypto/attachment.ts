// Encrypted attachments (Matrix client-server spec, "Sending encrypted attachments"): media for an
// encrypted room is encrypted with AES-256-CTR under a fresh key before upload, and the event
// carries a `file` object (key, iv, SHA-256 of the ciphertext) instead of `url`. Node's crypto
// does the work; matrix-encrypt-attachment does the same with WebCrypto but holds the whole file
// in memory, while a file from disk is encrypted here as a stream into a temporary file.
import { createCipheriv, createHash, randomBytes, type Cipheriv, type Hash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { EncryptedFile } from "@botyard/sdk";

/** What the spec asks for: `file` without `url` (that comes from the upload). */
export type AttachmentKeys = Omit<EncryptedFile, "url">;

const unpadded = (b: Buffer): string => b.toString("base64").replace(/=+$/, "");

/** A fresh key and iv (the low 64 bits of the iv, the block counter, start at zero). */
function newCipher(): { cipher: Cipheriv; hash: Hash; keys: (digest: Buffer) => AttachmentKeys } {
  const key = randomBytes(32);
  const iv = Buffer.concat([randomBytes(8), Buffer.alloc(8)]);
  return {
    cipher: createCipheriv("aes-256-ctr", key, iv),
    hash: createHash("sha256"),
    keys: (digest) => ({
      key: { kty: "oct", key_ops: ["encrypt", "decrypt"], alg: "A256CTR", k: key.toString("base64url"), ext: true },
      iv: unpadded(iv),
      hashes: { sha256: unpadded(digest) },
      v: "v2",
    }),
  };
}

/** Encrypts bytes held in memory (uploadMedia). */
export function encryptAttachment(data: Uint8Array): { ciphertext: Buffer; keys: AttachmentKeys } {
  const { cipher, hash, keys } = newCipher();
  const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
  return { ciphertext, keys: keys(hash.update(ciphertext).digest()) };
}

/**
 * Encrypts a file from disk (uploadMediaFile) into a temporary file, never holding it whole, and
 * runs `use` with that file's path; the temporary folder is removed afterwards.
 */
export async function withEncryptedFile<T>(source: string, use: (encryptedPath: string, keys: AttachmentKeys) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), "botyard-attachment-"));
  try {
    const target = path.join(dir, "encrypted");
    const { cipher, hash, keys } = newCipher();
    const hashing = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    await pipeline(createReadStream(source), cipher, hashing, createWriteStream(target, { mode: 0o600 }));
    return await use(target, keys(hash.digest()));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
