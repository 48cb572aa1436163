// Turns whatever a user typed (URL, bare host, `user@host`, host:port/path) into the bare
// domain Owncast Sentry keys everything by, the way the original's `domainify` does.

/**
 * `https://User@Stream.Example.com:8443/embed?x` → `stream.example.com`.
 * Scheme, userinfo, `user@` prefix, port, path, query and fragment are dropped; only
 * `[a-z0-9.-]` is kept and leading/trailing dots and dashes are trimmed. Returns "" when nothing
 * usable is left or the result is longer than a DNS name can be.
 */
export function domainify(input: string): string {
  let rest = input.trim();
  // Everything up to the last "@" is userinfo or a Fediverse-style handle ("notify@host").
  const at = rest.lastIndexOf("@");
  if (at >= 0) rest = rest.slice(at + 1);
  // Any "scheme://" (the original only knew lower-case http/https; "HTTPS://x" became "https").
  rest = rest.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").replace(/^\/\//, "");
  const host = rest.split(/[/?#]/, 1)[0] ?? "";
  const withoutPort = host.toLowerCase().split(":", 1)[0] ?? "";
  const domain = withoutPort.replace(/[^a-z0-9.-]/g, "").replace(/^[.-]+|[.-]+$/g, "");
  return domain.length <= MAX_DOMAIN_LENGTH ? domain : "";
}

/** DNS names are at most 253 characters. */
const MAX_DOMAIN_LENGTH = 253;

/**
 * A stored domain split into host and port. botyard's own domainify never keeps a port, but a
 * database carried over from maubot may hold `host:port` (builds of the original that kept it),
 * and such a stream is polled at that port.
 */
export function splitHostPort(domain: string): { host: string; port: number | null } {
  const m = /^(.*):([0-9]{1,5})$/.exec(domain);
  if (m === null || m[1] === "" || m[1]!.includes(":")) return { host: domain, port: null };
  const port = Number(m[2]);
  return port >= 1 && port <= 65535 ? { host: m[1]!, port } : { host: domain, port: null };
}
