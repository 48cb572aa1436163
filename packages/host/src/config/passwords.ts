// Admin password hashing, shared by config loading and `botyard hash-password`.
import { randomBytes } from "node:crypto";
import bcrypt from "bcryptjs";

/** bcrypt cost for new hashes (maubot uses 12 as well). */
export const BCRYPT_COST = 12;

const BCRYPT_HASH = /^\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}$/;

export function isBcryptHash(value: string): boolean {
  return BCRYPT_HASH.test(value);
}

export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, BCRYPT_COST);
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  if (!isBcryptHash(hash)) return false;
  return bcrypt.compare(password, hash);
}

/** A random secret that is safe in YAML and URLs (base64url, `bytes` of entropy). */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}
