// Every credential shape is cut alike from the log output (never told the value) and from the
// admin room notices, and the JSON log line stays whole around it.
import { describe, expect, it } from "vitest";
import { adminNoticeFrom } from "./admin-notices.js";
import { createLogging } from "./logging.js";
import { scrubSecretText } from "./secret-patterns.js";

const JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLXZhbHVl";

/** A text that carries a credential, and the credential. */
const SHAPES: Array<[string, string, string]> = [
  ["a Synapse access token", "token syt_Ym90_abcdefghijklmn_123 rejected", "syt_Ym90_abcdefghijklmn_123"],
  ["a MAS access token", "token mat_0123456789abcdefXYZ expired", "mat_0123456789abcdefXYZ"],
  ["a Bearer header", "sent Authorization: Bearer abc.def-ghi", "abc.def-ghi"],
  ["an access_token query parameter", "GET https://hs/_matrix/client/v3/sync?access_token=qwertyuiop&since=1 failed", "qwertyuiop"],
  ["a password form field", "body was user=bob&password=hunter2hunter2", "hunter2hunter2"],
  ["a password in JSON text", 'payload {"password": "open-sesame-42", "user": "bob"}', "open-sesame-42"],
  ["a password in a URL's user info", "cannot reach https://bob:s3cretpass@hs.example.org/", "s3cretpass"],
  ["a JSON Web Token", `login token ${JWT} is stale`, JWT],
];

describe("credential shapes in free text", () => {
  it.each(SHAPES)("cuts %s from a text", (_name, text, secret) => {
    const clean = scrubSecretText(text);
    expect(clean).not.toContain(secret);
    expect(clean).toContain("[Redacted]");
  });

  it.each(SHAPES)("cuts %s from the log output and keeps the line valid JSON", (_name, text, secret) => {
    let out = "";
    const logging = createLogging({ level: "info", console: "json", file: null }, { console: { write: (s: string) => (out += s) } });
    logging.logger.info({ after: "still here" }, text);
    logging.close();
    expect(out).not.toContain(secret);
    expect(JSON.parse(out)).toMatchObject({ after: "still here" });
    expect(JSON.stringify(logging.ring.history())).not.toContain(secret);
  });

  it.each(SHAPES)("cuts %s from an admin room notice", (_name, text, secret) => {
    const notice = adminNoticeFrom({ id: "1", time: new Date().toISOString(), levelname: "ERROR", levelno: 40, name: "client.@bot:hs", msg: text });
    expect(notice?.message).toBeDefined();
    expect(notice?.message).not.toContain(secret);
  });
});
