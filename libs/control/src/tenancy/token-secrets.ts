import { createHash, randomBytes } from 'node:crypto';

/** A token as clients send it: 32-128 URL-safe characters. Anything else is refused before any lookup. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{32,128}$/;

/** 256 random bits, prefixed so a leaked token is recognisable in a secret scanner. */
export function generateToken(): string {
  return `berth_${randomBytes(32).toString('base64url')}`;
}

/** Tokens carry 256 bits of entropy, so a plain SHA-256 is enough to store them (no slow hash needed). */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
