// Shapes of credentials inside free text (messages, URLs, stack traces, JSON strings), cut out of
// every log line (redact.ts) and of every admin room notice (admin-notices.ts) alike: one list, so
// a shape added for one reaches the other.
//
// Values stop at quotes and backslashes: log lines are JSON, and a pattern running past a string's
// closing quote would swallow the fields after it and break the line.

export const CENSOR = "[Redacted]";

const SECRET_TEXT_PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  // Matrix access and refresh tokens: Synapse's (syt_, syl_, sya_) and MAS's (mat_, mct_).
  [/\b(?:syt|syl|sya|mat|mct)_[A-Za-z0-9_=-]{8,}/g, CENSOR],
  [/(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi, `$1${CENSOR}`],
  // Query parameters and form fields (`?access_token=`, `password=`).
  [/((?:access_token|password|token|secret)=)[^&\s"'\\]+/gi, `$1${CENSOR}`],
  // JSON inside a string (a logged request body), escaped or not.
  [
    /(\\?"(?:access_token|password|new_password|token|secret|registration_token|unshared_secret)\\?"\s*:\s*\\?")(?:[^"\\]|\\[^"])*(\\?")/gi,
    `$1${CENSOR}$2`,
  ],
  // A password in a URL's user info (`https://user:password@host`).
  [/(\/\/[^/:@\s"]+:)[^@/\s"]+@/g, `$1${CENSOR}@`],
  // A JSON Web Token (the management API's login tokens).
  [/\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+/g, CENSOR],
];

/** `text` with every credential shape above replaced by the censor mark. */
export function scrubSecretText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_TEXT_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}
