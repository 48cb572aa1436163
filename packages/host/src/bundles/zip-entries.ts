// Reads a zip's entries without trusting it: the entry count and total size are read from the
// central directory before adm-zip parses anything (zip-directory.ts); names, kinds and sizes are
// checked from the headers before any data is inflated, and each entry is inflated with a hard
// output cap equal to its declared size, so a lying header cannot make us allocate more than the
// limits allow.
import { crc32, inflateRawSync } from "node:zlib";
import AdmZip from "adm-zip";
import { BundleError } from "./bundle-error.js";
import { unsafeEntryName } from "./entry-name.js";
import { checkZipDirectory } from "./zip-directory.js";

export { unsafeEntryName } from "./entry-name.js";

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

/** Files of a checked zip: normalised name (no trailing slash) → content. Directories omitted. */
export function readZipEntries(buffer: Buffer): Map<string, Buffer> {
  checkZipDirectory(buffer);
  let zip: AdmZip;
  let entries: AdmZip.IZipEntry[];
  try {
    zip = new AdmZip(buffer);
    entries = zip.getEntries();
  } catch (err) {
    throw new BundleError("plugin_invalid", `The file is not a zip archive (${(err as Error).message}); a plugin bundle (.mbp) is a zip file.`);
  }
  const seen = new Set<string>();
  const fileNames = new Set<string>();
  for (const entry of entries) {
    const name = entry.entryName;
    const rawName = entry.rawEntryName;
    const problem = rawName.includes(0) ? "a NUL byte" : unsafeEntryName(name);
    if (problem) {
      throw new BundleError("plugin_invalid", `The bundle entry ${JSON.stringify(name)} has ${problem}; entries must be relative paths inside the bundle.`);
    }
    const mode = (entry.header.attr >>> 16) & S_IFMT;
    // The mode is only meaningful when the zip was made on Unix; 0 means "not recorded".
    if (mode === S_IFLNK) {
      throw new BundleError("plugin_invalid", `The bundle entry ${JSON.stringify(name)} is a symbolic link; bundles may contain only regular files.`);
    }
    if (mode !== 0 && mode !== S_IFREG && mode !== S_IFDIR) {
      throw new BundleError("plugin_invalid", `The bundle entry ${JSON.stringify(name)} is not a regular file or folder.`);
    }
    if (entry.header.encrypted) {
      throw new BundleError("plugin_invalid", `The bundle entry ${JSON.stringify(name)} is encrypted; bundles must not be.`);
    }
    const key = name.replace(/\/$/, "");
    if (seen.has(key)) {
      throw new BundleError("plugin_invalid", `The bundle has the entry ${JSON.stringify(key)} twice.`);
    }
    seen.add(key);
    if (!entry.isDirectory) fileNames.add(key);
  }

  const clash = fileUsedAsFolder(fileNames);
  if (clash) {
    throw new BundleError("plugin_invalid", `The bundle has ${JSON.stringify(clash.file)} as a file and as the folder of ${JSON.stringify(clash.inside)}; a name can be only one of them.`);
  }

  const files = new Map<string, Buffer>();
  for (const entry of entries) {
    if (entry.isDirectory) continue;
    files.set(entry.entryName, inflateEntry(entry));
  }
  return files;
}

/** A file whose name is also a folder of another file (`a` and `a/b`), which no disk can hold. */
function fileUsedAsFolder(fileNames: ReadonlySet<string>): { file: string; inside: string } | null {
  for (const name of fileNames) {
    for (let slash = name.indexOf("/"); slash >= 0; slash = name.indexOf("/", slash + 1)) {
      const folder = name.slice(0, slash);
      if (fileNames.has(folder)) return { file: folder, inside: name };
    }
  }
  return null;
}

function inflateEntry(entry: AdmZip.IZipEntry): Buffer {
  const name = entry.entryName;
  const declared = entry.header.size;
  let data: Buffer;
  try {
    const compressed = entry.getCompressedData();
    if (entry.header.method === 0) {
      data = compressed;
    } else if (entry.header.method === 8) {
      // maxOutputLength must be >= 1; an empty deflated entry still inflates to 0 bytes.
      data = inflateRawSync(compressed, { maxOutputLength: Math.max(declared, 1) });
    } else {
      throw new Error(`compression method ${entry.header.method} is not supported (use deflate or store)`);
    }
  } catch (err) {
    throw new BundleError("plugin_invalid", `The bundle entry ${JSON.stringify(name)} cannot be read: ${(err as Error).message}.`);
  }
  if (data.length !== declared) {
    throw new BundleError("plugin_invalid", `The bundle entry ${JSON.stringify(name)} is ${data.length} bytes but its header says ${declared}; the zip is damaged.`);
  }
  if ((crc32(data) >>> 0) !== (entry.header.crc >>> 0)) {
    throw new BundleError("plugin_invalid", `The bundle entry ${JSON.stringify(name)} fails its checksum; the zip is damaged.`);
  }
  return data;
}
