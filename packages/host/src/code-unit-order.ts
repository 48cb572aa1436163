// Sorting ids without ICU. String.prototype.localeCompare (and Intl.Collator, toLocaleString)
// pages the node binary's ICU collation data in on first use: about 9 MB more RSS for the rest of
// the daemon's life, measured on Node 24 (issue 18). Ids (plugin ids, instance ids) are ASCII, and
// ordering them by UTF-16 code units is as readable as by locale.

/** Array.sort's comparator for strings in UTF-16 code-unit order (as sort() with no comparator). */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
