// What kind of statement a console query is, decided by its leading keyword as SQLite's own
// tokenizer (tokenize.c) reads it: whitespace, `--` and `/* */` comments and empty statements
// (`;`) come before it, a keyword is an unquoted run of identifier characters compared without
// case. A regex over the text was fooled by `/*/ x */ VACUUM` and `;VACUUM`; a lexer that skips
// exactly what SQLite skips is not. The console process checks the prepared statement as well
// (readonly, reader, and its EXPLAIN opcodes).

/** Statements refused in every mode: they reach other files or change the connection itself. */
const FORBIDDEN = new Set(["ATTACH", "DETACH", "PRAGMA", "VACUUM"]);

export interface StatementKind {
  /** The statement's first keyword in upper case (after EXPLAIN [QUERY PLAN]); "" when none. */
  keyword: string;
  /** The statement starts with EXPLAIN: it shows a program and runs nothing. */
  explain: boolean;
  /** Offset of the first token: the SQL from here is the same statement without its prefix. */
  start: number;
}

// SQLite's sqlite3Isspace: space and \t \n \v \f \r.
const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);
// tokenize.c's IdChar: ASCII letters, digits, `_`, `$` and every byte of a non-ASCII character.
const isIdChar = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x24 || c >= 0x80;
const isIdStart = (c: number): boolean => isIdChar(c) && c !== 0x24 && !(c >= 0x30 && c <= 0x39);

/** Offset of the next token at or after `i`, past whitespace, comments and `;`. */
function skipToToken(sql: string, i: number): number {
  while (i < sql.length) {
    const c = sql.charCodeAt(i);
    if (isSpace(c) || c === 0x3b) i++;
    else if (sql.startsWith("--", i)) {
      const nl = sql.indexOf("\n", i + 2);
      i = nl < 0 ? sql.length : nl + 1;
    } else if (sql.startsWith("/*", i)) {
      // The closing `*/` starts after the opening one: `/*/` is not a whole comment.
      const end = sql.indexOf("*/", i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else break;
  }
  return i;
}

/** The keyword at `i` (ASCII upper case), or "" when the token there is not a bare word. */
function wordAt(sql: string, i: number): { word: string; end: number } {
  if (i >= sql.length || !isIdStart(sql.charCodeAt(i))) return { word: "", end: i };
  let end = i;
  while (end < sql.length && isIdChar(sql.charCodeAt(end))) end++;
  // ASCII folding only, as SQLite: `ſ`.toUpperCase() is "S" in JavaScript, not in SQLite.
  const word = sql.slice(i, end).replace(/[a-z]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) - 32));
  return { word, end };
}

export function statementKind(sql: string): StatementKind {
  const start = skipToToken(sql, 0);
  let { word, end } = wordAt(sql, start);
  const explain = word === "EXPLAIN";
  if (explain) {
    ({ word, end } = wordAt(sql, skipToToken(sql, end)));
    if (word === "QUERY") {
      ({ word, end } = wordAt(sql, skipToToken(sql, end)));
      if (word === "PLAN") ({ word } = wordAt(sql, skipToToken(sql, end)));
    }
  }
  return { keyword: word, explain, start };
}

/** Why the console refuses the statement in every mode, or null. */
export function forbiddenReason(kind: StatementKind): string | null {
  return FORBIDDEN.has(kind.keyword) ? `${kind.keyword} statements are not allowed in the database console` : null;
}
