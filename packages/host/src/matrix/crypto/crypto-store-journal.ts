// The journal beside a crypto store file (`<store file>.log`): the records changed since the
// store file was last written whole, appended as encrypted frames. A store file names the journal
// that continues it (a random id); a journal of another id is from before the last whole write
// and is ignored, so a crash between writing the store file and starting its journal loses
// nothing.
//
// Layout: "BYCJ1", the 16-byte id, then frames of [u32 length][12-byte IV][16-byte tag][AES-256-GCM
// ciphertext]. Each frame's associated data is the id and its sequence number, so frames cannot
// be reordered or moved to another journal. A frame cut short (the daemon died while appending)
// ends the journal; a whole frame that fails its check means a wrong key or a damaged file.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { appendFile, readFile, writeFile } from "node:fs/promises";

const MAGIC = Buffer.from("BYCJ1");
const HEADER = MAGIC.length + 16;
const FRAME_HEAD = 4 + 12 + 16;

export interface JournalRead {
  /** The payloads of the whole frames, in order. */
  frames: Buffer[];
  /** Bytes after the last whole frame (a write cut short); the journal must be started again. */
  cutShort: boolean;
  /** The journal's length; null when there is no journal of this id to go on with. */
  bytes: number | null;
}

/** A frame failed its check: a wrong key or a damaged journal. */
export class JournalDamagedError extends Error {}

export function newJournalId(): Buffer {
  return randomBytes(16);
}

function aad(id: Buffer, seq: number): Buffer {
  const out = Buffer.alloc(id.length + 4);
  id.copy(out);
  out.writeUInt32BE(seq, id.length);
  return out;
}

/** Starts (or empties) the journal of id. */
export async function startJournal(file: string, id: Buffer): Promise<number> {
  await writeFile(file, Buffer.concat([MAGIC, id]), { mode: 0o600 });
  return HEADER;
}

/** Appends one frame; resolves the bytes written. */
export async function appendFrame(file: string, key: Buffer, id: Buffer, seq: number, payload: Buffer): Promise<number> {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(aad(id, seq));
  const body = Buffer.concat([cipher.update(payload), cipher.final()]);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  const frame = Buffer.concat([head, iv, cipher.getAuthTag(), body]);
  await appendFile(file, frame, { mode: 0o600 });
  return frame.length;
}

/** The frames of the journal of id; none when the file is missing or belongs to another id. */
export async function readJournal(file: string, key: Buffer, id: Buffer): Promise<JournalRead> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { frames: [], cutShort: false, bytes: null };
    throw err;
  }
  if (data.length < HEADER || !data.subarray(0, MAGIC.length).equals(MAGIC) || !data.subarray(MAGIC.length, HEADER).equals(id)) {
    return { frames: [], cutShort: false, bytes: null };
  }
  const frames: Buffer[] = [];
  let at = HEADER;
  while (at < data.length) {
    if (data.length - at < FRAME_HEAD) return { frames, cutShort: true, bytes: at };
    const length = data.readUInt32BE(at);
    if (data.length - at - FRAME_HEAD < length) return { frames, cutShort: true, bytes: at };
    const iv = data.subarray(at + 4, at + 16);
    const tag = data.subarray(at + 16, at + FRAME_HEAD);
    const body = data.subarray(at + FRAME_HEAD, at + FRAME_HEAD + length);
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, iv);
      decipher.setAAD(aad(id, frames.length));
      decipher.setAuthTag(tag);
      frames.push(Buffer.concat([decipher.update(body), decipher.final()]));
    } catch {
      throw new JournalDamagedError(`frame ${frames.length} of ${file} fails its check`);
    }
    at += FRAME_HEAD + length;
  }
  return { frames, cutShort: false, bytes: data.length };
}
