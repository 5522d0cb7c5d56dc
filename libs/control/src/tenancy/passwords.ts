import { hash, verify } from '@node-rs/argon2';

/*
 * Password hashes: Argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane), as a PHC string that names them,
 * so that stronger parameters later still verify the hashes made today.
 */
// The library's default algorithm is Argon2id (its Algorithm enum is a const enum this build cannot name); the
// unit test holds the hashes to the "$argon2id$" prefix.
const OPTIONS = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

/** A hash no password matches, verified in place of a missing one so that an unknown user costs the same time. */
let decoy: Promise<string> | null = null;

/** Whether `password` matches `stored`; with no stored hash, false after the same work as a real check. */
export async function passwordMatches(stored: string | null, password: string): Promise<boolean> {
  decoy ??= hashPassword(`decoy-${Math.random()}`);
  const against = stored ?? (await decoy);
  const matches = await verify(against, password).catch(() => false);
  return stored !== null && matches;
}
