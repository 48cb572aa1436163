// What a request to an Owncast server gives back, shared by both HTTP clients
// (node:https in owncast-http.ts, the plain-HTTP one in plain-http.ts).

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export class FetchError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
    this.name = "FetchError";
  }
}

export interface FetchResult {
  status: number;
  contentType: string;
  body: Buffer;
}
