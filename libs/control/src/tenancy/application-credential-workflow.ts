import {
  deleteApplicationCredential,
  insertApplicationCredential,
  insertOperation,
  loginApplicationCredential,
  memberRole,
  userCredentials,
  type Actor,
  type ApplicationCredentialRow,
} from '@berth/data';
import { BerthError, roleAtMost, type Role } from '@berth/domain';
import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { hashPassword, passwordMatches } from './passwords';
import { issueToken, type IssuedToken, type TokenCaller } from './token-workflow';

export interface ApplicationCredentialRequest {
  name: string;
  description: string;
  /** The caller's own secret, or null for one made here (shown once). */
  secret: string | null;
  expiresAt: Date | null;
  /** Null: the role of the caller's token. */
  role: Role | null;
  /** Whether its tokens may mint tokens and application credentials themselves (Keystone's default: no). */
  unrestricted: boolean;
}

/**
 * Makes an application credential of the caller's own user, for the caller's token's project, with a role no higher
 * than the token's. A token that a restricted credential gave makes none. The secret is kept as an Argon2id hash
 * and answered this once.
 */
export async function createApplicationCredential(
  dataSource: DataSource,
  caller: TokenCaller & { restricted: boolean },
  request: ApplicationCredentialRequest,
  actor: Actor,
): Promise<{ credential: ApplicationCredentialRow; secret: string }> {
  if (caller.restricted) {
    throw BerthError.forbidden('a token from a restricted application credential makes no application credentials');
  }
  const role = request.role ?? caller.role;
  if (!roleAtMost(role, caller.role)) throw BerthError.forbidden(`roles may not go above your own (${caller.role})`);
  if (request.expiresAt !== null && request.expiresAt.getTime() <= Date.now()) {
    throw BerthError.invalid([{ field: 'expiresAt', rule: 'future', message: 'expiresAt must be in the future' }]);
  }
  const secret = request.secret ?? randomBytes(48).toString('base64url');
  const secretHash = await hashPassword(secret);
  return dataSource.transaction(async (m) => {
    const credential = await insertApplicationCredential(m, {
      userId: caller.userId,
      projectId: caller.projectId,
      name: request.name,
      description: request.description,
      role,
      unrestricted: request.unrestricted,
      expiresAt: request.expiresAt,
      secretHash,
    });
    if (!credential)
      throw BerthError.conflict('you already have an application credential of this name', 'name', 'unique');
    await insertOperation(m, actor, {
      action: 'application-credential.create',
      targetType: 'application-credential',
      targetId: credential.id,
      finished: true,
    });
    return { credential, secret };
  });
}

/**
 * Deletes one of the user's own application credentials, which ends every token it gave (they cascade with it);
 * 404 for one that is not theirs. Recorded as a finished operation.
 */
export function deleteOwnApplicationCredential(
  dataSource: DataSource,
  userId: string,
  id: string,
  actor: Actor,
): Promise<void> {
  return dataSource.transaction(async (m) => {
    if (!(await deleteApplicationCredential(m, userId, id))) throw BerthError.notFound('application credential', id);
    await insertOperation(m, actor, {
      action: 'application-credential.delete',
      targetType: 'application-credential',
      targetId: id,
      finished: true,
    });
  });
}

/** A credential to log in with: by its id (null: what was given is no id), or by its name and its user's id or name. */
export type ApplicationCredentialRef = { id: string | null } | { user: string; name: string };

const REFUSED = () =>
  new BerthError('unauthenticated', 'the application credential and secret were not accepted; try again later');

/**
 * Keystone's application_credential method: a token for the credential's project, with its role or the user's role
 * there if that is now lower, ending no later than the credential. An unknown credential, a wrong secret, an expired
 * credential, or a user no longer in the project are refused alike, at the same cost.
 */
export async function applicationCredentialLogin(
  dataSource: DataSource,
  ref: ApplicationCredentialRef,
  secret: string,
  settings: { tokenTtlSec: number },
  actor: Omit<Actor, 'projectId' | 'userId'>,
): Promise<IssuedToken> {
  const m = dataSource.manager;
  const userId = 'id' in ref ? null : ((await userCredentials(m, ref.user))?.id ?? null);
  const credential =
    'id' in ref
      ? ref.id === null
        ? null
        : await loginApplicationCredential(m, { id: ref.id })
      : userId
        ? await loginApplicationCredential(m, { userId, name: ref.name })
        : null;
  const matches = await passwordMatches(credential?.secretHash ?? null, secret);
  if (!credential || !matches || (credential.expiresAt !== null && credential.expiresAt <= new Date())) throw REFUSED();
  const issued = await dataSource.transaction(async (tx) => {
    const held = await memberRole(tx, credential.projectId, credential.userId);
    if (!held) return null;
    const ttl = new Date(Date.now() + settings.tokenTtlSec * 1000);
    const expiresAt = credential.expiresAt !== null && credential.expiresAt < ttl ? credential.expiresAt : ttl;
    const subject = {
      userId: credential.userId,
      projectId: credential.projectId,
      role: roleAtMost(credential.role, held) ? credential.role : held,
      name: `application-credential:${credential.name}`,
      expiresAt,
      applicationCredentialId: credential.id,
      restricted: !credential.unrestricted,
    };
    return issueToken(
      tx,
      subject,
      { ...actor, projectId: credential.projectId, userId: credential.userId },
      'token.login',
    );
  });
  if (!issued) throw REFUSED();
  return issued;
}
