// The check of a bundle entry's name, shared by the zip reader (check thread) and the code
// extractor (main thread); its own module so the main thread does not load adm-zip for it.

/**
 * Why `name` may not be written below a folder, or null when it is safe. Accepts only plain
 * relative paths of non-empty segments.
 */
export function unsafeEntryName(name: string): string | null {
  if (name.length === 0) return "an empty name";
  if (name.includes("\0")) return "a NUL byte";
  if (name.includes("\\")) return "a backslash";
  if (name.startsWith("/")) return "an absolute path";
  if (/^[a-zA-Z]:/.test(name)) return "a drive letter";
  const segments = name.replace(/\/$/, "").split("/");
  for (const segment of segments) {
    if (segment === "..") return "a '..' segment";
    if (segment === "." || segment === "") return "an empty or '.' segment";
    if (segment.length > 255) return "a segment longer than 255 characters";
  }
  return null;
}
