// Whether a device already has encryption keys on the homeserver. A device's keys are made once,
// by the client that holds its Olm account: a bot whose crypto store does not have them (an
// account imported from maubot, whose keys stay in maubot's crypto database, or a store that was
// lost) must not make new ones for the same device id. The homeserver would replace the published
// keys, and the users' clients, which remember the first keys of a device, would stop trusting it.
import type { MatrixClient } from "matrix-js-sdk/lib/client.js";

export async function deviceHasPublishedKeys(client: MatrixClient, userId: string, deviceId: string): Promise<boolean> {
  const res = await client.downloadKeysForUsers([userId]);
  return Boolean(res.device_keys?.[userId]?.[deviceId]);
}

/** What last_error says when the device's keys exist only elsewhere. */
export function foreignDeviceKeysMessage(deviceId: string): string {
  return (
    `device ${deviceId} already has encryption keys on the homeserver that this host does not hold ` +
    `(made by another client, e.g. maubot before the import, or a crypto store that was lost). ` +
    `Log the account in again for a new device (POST /client/auth/{server}/login?update_client=true) to use encryption`
  );
}
