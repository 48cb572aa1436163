// How a request to a plugin worker fails, as types the caller can tell apart.

/** Raised for every request in flight when the worker dies, and by requests after its death. */
export class WorkerDiedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WorkerDiedError";
  }
}

/** The plugin answered a web request with a body over the limit; nothing of it reached the host. */
export class WebResponseTooLargeError extends Error {
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`the plugin answered with ${bytes} bytes, over the limit of ${limit} bytes`);
    this.name = "WebResponseTooLargeError";
  }
}

export class RequestTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not answer within ${ms} ms`);
    this.name = "RequestTimeoutError";
  }
}
