// Why a status check failed, in two forms: the technical detail for the log, and a sentence for
// the person who typed `!subscribe`, saying what the bot saw in words they can act on.

import { FetchError } from "./fetch-result.js";

export type CheckFailureKind =
  | "no-such-name"
  | "private-address"
  | "refused"
  | "unreachable"
  | "closed"
  | "slow"
  | "certificate"
  | "broken-answer"
  | "too-large"
  | "http-status"
  | "not-owncast"
  | "interrupted"
  | "other";

export type CheckFailure =
  | { kind: "http-status"; status: number; detail: string }
  | { kind: Exclude<CheckFailureKind, "http-status">; detail: string };

const KIND_OF_CODE: Readonly<Record<string, Exclude<CheckFailureKind, "http-status">>> = {
  ENOTFOUND: "no-such-name",
  EAI_AGAIN: "no-such-name",
  EBLOCKED: "private-address",
  ECONNREFUSED: "refused",
  ECONNTIMEOUT: "unreachable",
  EHOSTUNREACH: "unreachable",
  ENETUNREACH: "unreachable",
  EHOSTDOWN: "unreachable",
  ENETDOWN: "unreachable",
  ECONNRESET: "closed",
  EPIPE: "closed",
  ETIMEDOUT: "slow",
  EPROTO: "broken-answer",
  ETOOBIG: "too-large",
  ECLOSED: "interrupted",
};

/** TLS verification failures (Node's OpenSSL codes): the certificate, not the connection. */
function isCertificateCode(code: string): boolean {
  return /^(CERT_|ERR_TLS_CERT|DEPTH_ZERO_SELF_SIGNED|SELF_SIGNED_CERT|UNABLE_TO_(GET|VERIFY)|HOSTNAME_MISMATCH)/.test(code);
}

/** A request that threw (connection, TLS, timeout, size). */
export function fetchFailure(err: Error): CheckFailure {
  const code = err instanceof FetchError ? err.code : "code" in err && typeof err.code === "string" ? err.code : "";
  if (isCertificateCode(code)) return { kind: "certificate", detail: err.message };
  return { kind: KIND_OF_CODE[code] ?? "other", detail: err.message };
}

export function httpStatusFailure(status: number): CheckFailure {
  return { kind: "http-status", status, detail: `HTTP ${status}` };
}

/** An answer that arrived but is not an Owncast status (not JSON, wrong shape). */
export function notOwncastFailure(detail: string): CheckFailure {
  return { kind: "not-owncast", detail };
}

function describeStatus(status: number): string {
  if (status >= 300 && status < 400) return `the server sent the check elsewhere (redirect, HTTP ${status}): give the address of the Owncast server itself`;
  if (status === 404) return "the server has no Owncast status page (HTTP 404 Not Found)";
  if (status === 401 || status === 403) return `the server refused to show its status (HTTP ${status})`;
  if (status === 429) return "the server asked the bot to slow down (HTTP 429); try again in a few minutes";
  if (status >= 500) return `the server reported an error (HTTP ${status}); it may be down, try again later`;
  return `the server answered HTTP ${status} instead of its status`;
}

/** What the bot saw, for the room (no error codes, no addresses). */
export function describeForRoom(failure: CheckFailure): string {
  switch (failure.kind) {
    case "http-status":
      return describeStatus(failure.status);
    case "no-such-name":
      return "no server was found under that name";
    case "private-address":
      return "that name points to a private or local network address, which this bot does not contact";
    case "refused":
      return "the server refused the connection";
    case "unreachable":
      return "the server could not be reached";
    case "closed":
      return "the server closed the connection before answering";
    case "slow":
      return "the server took too long to answer";
    case "certificate":
      return "the server's HTTPS certificate could not be verified (expired, self-signed or made for another name)";
    case "broken-answer":
      return "the server's answer was not valid HTTP";
    case "too-large":
      return "the server's answer was far larger than an Owncast status";
    case "not-owncast":
      return "the server answered, but not like an Owncast server";
    case "interrupted":
      return "the check was interrupted because the bot is restarting; try again";
    case "other":
      return "the connection to the server failed";
  }
}
