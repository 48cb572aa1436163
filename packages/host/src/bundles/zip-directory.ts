// Reads a zip's entry count and total uncompressed size from its END OF CENTRAL DIRECTORY record
// and central directory, as plain integers from the bytes, before any zip library builds an
// object per entry: 600,000 empty entries cost adm-zip minutes and gigabytes; here at most
// MAX_ENTRIES + 1 fixed-size headers are read. Only what is needed to refuse early is checked;
// readZipEntries checks every entry again once the numbers are known to be small.
import { BundleError } from "./bundle-error.js";

export const MAX_ENTRIES = 1000;
export const MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024;

const EOCD_SIG = 0x06054b50;
const EOCD_SIZE = 22;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const CENTRAL_SIZE = 46;
const MAX_COMMENT = 0xffff;

export interface ZipDirectory {
  entries: number;
  uncompressedBytes: number;
}

function damaged(detail: string): BundleError {
  return new BundleError("plugin_invalid", `The file is not a zip archive (${detail}); a plugin bundle (.mbp) is a zip file.`);
}

function tooManyEntries(count: string | number | bigint): BundleError {
  return new BundleError("bundle_too_large", `The bundle has ${count} entries; at most ${MAX_ENTRIES} are allowed.`);
}

function tooLarge(): BundleError {
  return new BundleError("bundle_too_large", `The bundle unpacks to more than ${MAX_UNCOMPRESSED_BYTES / 1024 / 1024} MiB; that is the limit.`);
}

/** The last END OF CENTRAL DIRECTORY record (the comment after it is at most 64 KiB). */
function findEndRecord(zip: Buffer): number {
  const lowest = Math.max(0, zip.length - EOCD_SIZE - MAX_COMMENT);
  for (let at = zip.length - EOCD_SIZE; at >= lowest; at--) {
    if (zip.readUInt32LE(at) === EOCD_SIG && at + EOCD_SIZE + zip.readUInt16LE(at + 20) === zip.length) return at;
  }
  throw damaged("no end of central directory record");
}

/**
 * Refuses (bundle_too_large) a zip that declares or holds more than MAX_ENTRIES entries or more
 * than MAX_UNCOMPRESSED_BYTES of content, reading only the directory's fixed-size fields.
 */
export function checkZipDirectory(zip: Buffer): ZipDirectory {
  const end = findEndRecord(zip);
  let declared: number | bigint = zip.readUInt16LE(end + 10);
  let size: number | bigint = zip.readUInt32LE(end + 12);
  let offset: number | bigint = zip.readUInt32LE(end + 16);
  if (declared === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    // ZIP64: the real numbers are in the zip64 record its locator (just before) points to.
    const locator = end - 20;
    if (locator < 0 || zip.readUInt32LE(locator) !== ZIP64_LOCATOR_SIG) throw damaged("a ZIP64 directory without its locator");
    const record = zip.readBigUInt64LE(locator + 8);
    if (record > BigInt(zip.length - 56) || zip.readUInt32LE(Number(record)) !== ZIP64_EOCD_SIG) throw damaged("a broken ZIP64 directory record");
    declared = zip.readBigUInt64LE(Number(record) + 32);
    size = zip.readBigUInt64LE(Number(record) + 40);
    offset = zip.readBigUInt64LE(Number(record) + 48);
  }
  if (declared > MAX_ENTRIES) throw tooManyEntries(declared);
  if (BigInt(offset) + BigInt(size) > BigInt(zip.length)) throw damaged("the central directory lies outside the file");
  // Walk the headers actually present (a lying count does not get past this), stopping at the limits.
  const stop = Number(offset) + Number(size);
  let at = Number(offset);
  let entries = 0;
  let uncompressedBytes = 0;
  while (at < stop) {
    if (at + CENTRAL_SIZE > stop || zip.readUInt32LE(at) !== CENTRAL_SIG) throw damaged("a broken central directory entry");
    if (++entries > MAX_ENTRIES) throw tooManyEntries(`more than ${MAX_ENTRIES}`);
    // 0xffffffff means "in the ZIP64 extra field", i.e. 4 GiB or more: far past the limit either way.
    uncompressedBytes += zip.readUInt32LE(at + 24);
    if (uncompressedBytes > MAX_UNCOMPRESSED_BYTES) throw tooLarge();
    at += CENTRAL_SIZE + zip.readUInt16LE(at + 28) + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  if (entries !== Number(declared)) throw damaged(`the directory says ${declared} entries but holds ${entries}`);
  return { entries, uncompressedBytes };
}
