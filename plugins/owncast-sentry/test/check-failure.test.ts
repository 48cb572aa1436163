// What a refused `!subscribe` tells the person who typed it, for each way a check can fail.

import { describe, expect, it } from "vitest";
import { describeForRoom, fetchFailure, httpStatusFailure } from "../src/check-failure.js";
import { FetchError } from "../src/fetch-result.js";

const said = (err: Error) => describeForRoom(fetchFailure(err));
const errno = (code: string, message: string) => Object.assign(new Error(message), { code });

describe("describeForRoom", () => {
  it("words connection failures without codes or addresses", () => {
    expect(said(new FetchError("stream.example does not resolve: queryA ENOTFOUND", "ENOTFOUND"))).toBe("no server was found under that name");
    expect(said(new FetchError("connect ECONNREFUSED 203.0.113.9:443", "ECONNREFUSED"))).toBe("the server refused the connection");
    expect(said(new FetchError("connect timed out after 5000 ms", "ECONNTIMEOUT"))).toBe("the server could not be reached");
    expect(said(new FetchError("no data for 5000 ms", "ETIMEDOUT"))).toBe("the server took too long to answer");
    expect(said(new FetchError("x resolves only to private or reserved addresses", "EBLOCKED"))).toBe(
      "that name points to a private or local network address, which this bot does not contact",
    );
  });

  it("tells a certificate problem from a broken connection", () => {
    expect(said(new FetchError("certificate has expired", "CERT_HAS_EXPIRED"))).toMatch(/^the server's HTTPS certificate could not be verified/);
    expect(said(errno("ERR_TLS_CERT_ALTNAME_INVALID", "Hostname/IP does not match certificate's altnames"))).toMatch(/certificate/);
    expect(said(errno("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate"))).toMatch(/certificate/);
    expect(said(new Error("something odd"))).toBe("the connection to the server failed");
  });

  it("words HTTP answers by what they mean for the person", () => {
    expect(describeForRoom(httpStatusFailure(301))).toBe("the server sent the check elsewhere (redirect, HTTP 301): give the address of the Owncast server itself");
    expect(describeForRoom(httpStatusFailure(403))).toBe("the server refused to show its status (HTTP 403)");
    expect(describeForRoom(httpStatusFailure(418))).toBe("the server answered HTTP 418 instead of its status");
  });
});
