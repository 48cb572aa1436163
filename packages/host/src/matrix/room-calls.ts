// The Matrix calls plugins make, one entry per method of the SDK's contract: the table's type
// makes every method present with its own params and result, so nothing is cast on the way.
import { openAsBlob } from "node:fs";
import type { MatrixClient } from "matrix-js-sdk/lib/client.js";
import { MatrixError, Method } from "matrix-js-sdk/lib/http-api/index.js";
import type { ClientCall, ClientMethod, ClientParams, ClientResult } from "@botyard/sdk";
import { encryptAttachment, withEncryptedFile } from "./crypto/attachment.js";
import { renderMarkdown, sanitizeMatrixHtml } from "./format.js";
import { buildMessageContent, withDefaultMentions } from "./message-content.js";
import { powerLevelsWithDefaults } from "./power-levels.js";
import { withRetry, type RetryPolicy } from "./request-retry.js";
import type { RoomSender } from "./room-sender.js";
import { openUploadFile } from "./upload-file.js";

const enc = encodeURIComponent;
/** Encrypted attachments are uploaded as opaque bytes; the real type is in the encrypted event. */
const ENCRYPTED_MEDIA_TYPE = "application/octet-stream";

export type RoomCalls = { [M in ClientMethod]: (params: ClientParams<M>) => Promise<ClientResult<M>> };

/** What the calls need of their bot's connection. */
export interface RoomCallConnection {
  /** The running SDK client; throws MatrixCallError when there is none. */
  requireClient(): MatrixClient;
  retry(): RetryPolicy;
  /** End-to-end encryption is running for this bot. */
  encryptionOn(): boolean;
  sender: RoomSender;
}

/** Runs one call from the table. */
export function runRoomCall<M extends ClientMethod>(calls: RoomCalls, call: ClientCall<M>): Promise<ClientResult<M>> {
  return calls[call.method](call.params);
}

/** The bytes as a Blob accepts them: a view of the same memory, copied only when it is shared. */
function blobPart(data: Uint8Array): Uint8Array<ArrayBuffer> {
  return data.buffer instanceof ArrayBuffer ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
}

export function roomCalls(connection: RoomCallConnection): RoomCalls {
  const { sender } = connection;
  const request = <T>(method: Method, path: string, body?: Record<string, unknown>): Promise<T> => {
    const client = connection.requireClient();
    return withRetry(() => client.http.authedRequest<T>(method, path, undefined, body), connection.retry());
  };
  /** Uploads to the media repository; an encrypted attachment goes without its name (the event carries it, encrypted). */
  const upload = async (client: MatrixClient, blob: Blob, contentType: string, filename?: string): Promise<string> => {
    const res = await withRetry(() => client.uploadContent(blob, { type: contentType, name: filename, includeFilename: Boolean(filename) }), connection.retry());
    return res.content_uri;
  };
  /** Media for this room must be encrypted (the room is, and encryption runs). */
  const encryptsFor = async (client: MatrixClient, roomId: string | undefined): Promise<boolean> => {
    const crypto = connection.encryptionOn() ? client.getCrypto() : undefined;
    return typeof roomId === "string" && crypto !== undefined && (await crypto.isEncryptionEnabledInRoom(roomId));
  };
  const getState = async (roomId: string, eventType: string, stateKey: string): Promise<Record<string, unknown> | null> => {
    try {
      return await request<Record<string, unknown>>(Method.Get, `/rooms/${enc(roomId)}/state/${enc(eventType)}/${enc(stateKey)}`);
    } catch (err) {
      if (err instanceof MatrixError && err.errcode === "M_NOT_FOUND") return null;
      throw err;
    }
  };

  return {
    sendText: (p) => sender.send(p.roomId, "m.room.message", buildMessageContent({ body: p.text }, p)),
    sendMarkdown: (p) => sender.send(p.roomId, "m.room.message", buildMessageContent({ body: p.markdown, html: renderMarkdown(p.markdown) }, p)),
    sendHtml: (p) => sender.send(p.roomId, "m.room.message", buildMessageContent({ body: p.text, html: sanitizeMatrixHtml(p.html) }, p)),
    sendEvent: (p) => sender.send(p.roomId, p.eventType, withDefaultMentions(p.content)),
    react: (p) => sender.send(p.roomId, "m.reaction", { "m.relates_to": { rel_type: "m.annotation", event_id: p.eventId, key: p.key } }),
    redact: (p) => sender.redact(p.roomId, p.eventId, p.reason),
    uploadMedia: async (p) => {
      const client = connection.requireClient();
      if (await encryptsFor(client, p.roomId)) {
        const { ciphertext, keys } = encryptAttachment(p.data);
        const contentUri = await upload(client, new Blob([blobPart(ciphertext)]), ENCRYPTED_MEDIA_TYPE);
        return { contentUri, file: { url: contentUri, ...keys } };
      }
      return { contentUri: await upload(client, new Blob([blobPart(p.data)], { type: p.contentType }), p.contentType, p.filename) };
    },
    uploadMediaFile: async (p) => {
      const client = connection.requireClient();
      const blob = await openUploadFile(p.path, p.contentType);
      if (await encryptsFor(client, p.roomId)) {
        return withEncryptedFile(p.path, async (encrypted, keys) => {
          const contentUri = await upload(client, await openAsBlob(encrypted), ENCRYPTED_MEDIA_TYPE);
          return { contentUri, file: { url: contentUri, ...keys } };
        });
      }
      return { contentUri: await upload(client, blob, p.contentType, p.filename) };
    },
    getStateEvent: (p) => getState(p.roomId, p.eventType, p.stateKey ?? ""),
    getPowerLevels: async (p) => {
      const content = await getState(p.roomId, "m.room.power_levels", "");
      let creator: string | null = null;
      if (content === null) {
        const create = await getState(p.roomId, "m.room.create", "");
        creator = typeof create?.creator === "string" ? create.creator : null;
      }
      return powerLevelsWithDefaults(content, creator);
    },
    getJoinedRooms: async () => ({ roomIds: (await request<{ joined_rooms: string[] }>(Method.Get, "/joined_rooms")).joined_rooms }),
    join: async (p) => ({ roomId: (await request<{ room_id: string }>(Method.Post, `/join/${enc(p.roomIdOrAlias)}`, {})).room_id }),
    leave: async (p) => {
      await request(Method.Post, `/rooms/${enc(p.roomId)}/leave`, {});
      return {};
    },
  };
}
