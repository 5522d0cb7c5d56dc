import { insertOperation, insertToken, memberRole, revokeToken, TokenEntity, type Actor } from '@berth/data';
import { BerthError, roleAtMost, type Role } from '@berth/domain';
import type { DataSource, EntityManager } from 'typeorm';
import { generateToken, hashToken } from './token-secrets';

export interface IssuedToken {
  id: string;
  userId: string;
  projectId: string;
  role: Role;
  name: string | null;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  /** The secret, shown this once. */
  token: string;
}

/** Stores a new token (its secret only as a hash) and records `action` as a finished operation; returns it once. */
export async function issueToken(
  m: EntityManager,
  request: TokenRequest,
  actor: Actor,
  action: 'token.create' | 'token.login',
): Promise<IssuedToken> {
  const secret = generateToken();
  const row = await insertToken(m, { ...request, secretHash: hashToken(secret) });
  await insertOperation(m, actor, { action, targetType: 'token', targetId: row.id, finished: true });
  const { id, userId, projectId, role, name, createdAt, expiresAt, revokedAt } = row;
  return { id, userId, projectId, role, name, createdAt, expiresAt, revokedAt, token: secret };
}

/** Who asks, as its token says. */
export interface TokenCaller {
  tokenId: string;
  userId: string;
  projectId: string;
  role: Role;
  expiresAt: Date | null;
  /** Given by a restricted application credential: it mints nothing. */
  restricted?: boolean;
}

export interface TokenRequest {
  userId: string;
  projectId: string;
  role: Role;
  name: string | null;
  expiresAt: Date | null;
  /** A login with an application credential: the token ends when it is deleted. */
  applicationCredentialId?: string;
  /** From a restricted application credential: it mints no tokens and no application credentials. */
  restricted?: boolean;
}

/**
 * Mints a token. The cloud admin mints anything. Anyone else mints in its token's project only, a role no higher
 * than its own, and no later than its own token ends (an expiry left out takes its own): a member for itself, a
 * project-admin for any member of the project up to that member's role. A reader mints nothing.
 */
export async function mintToken(
  dataSource: DataSource,
  caller: TokenCaller,
  request: TokenRequest,
  actor: Actor,
): Promise<IssuedToken> {
  const expiresAt = caller.role === 'admin' ? request.expiresAt : boundedExpiry(caller, request.expiresAt);
  if (caller.restricted) {
    throw BerthError.forbidden('a token from a restricted application credential may not mint tokens');
  }
  return dataSource.transaction(async (m) => {
    if (caller.role !== 'admin') {
      if (caller.role === 'reader') throw BerthError.forbidden('a reader may not mint tokens');
      if (request.projectId !== caller.projectId) {
        throw BerthError.forbidden("you may only mint tokens in your token's project");
      }
      if (!roleAtMost(request.role, caller.role)) {
        throw BerthError.forbidden(`you may not mint a role above your own (${caller.role})`);
      }
      if (caller.role === 'member' && request.userId !== caller.userId) {
        throw BerthError.forbidden('you may only mint tokens for yourself');
      }
      const held = await memberRole(m, request.projectId, request.userId);
      if (request.userId !== caller.userId && (held === null || !roleAtMost(request.role, held))) {
        throw BerthError.forbidden("a token may not carry more than its user's role in the project");
      }
    }
    return issueToken(m, { ...request, expiresAt }, { ...actor, projectId: request.projectId }, 'token.create');
  });
}

/** The expiry a token minted by `caller` gets: the one asked for, never later than the caller's own. */
function boundedExpiry(caller: TokenCaller, asked: Date | null): Date | null {
  if (caller.expiresAt !== null && (asked === null || asked > caller.expiresAt)) {
    if (asked === null) return caller.expiresAt;
    throw BerthError.invalid([
      {
        field: 'expiresAt',
        rule: 'notAfterOwn',
        message: `expiresAt must be no later than your own token's (${caller.expiresAt.toISOString()})`,
      },
    ]);
  }
  return asked;
}

/**
 * Revokes a token the caller may see (others: 404): the cloud admin any; a project-admin any of its project's; a
 * member its own user's up to its own role; a reader only itself. Repeating is harmless.
 */
export async function revokeTokenAs(
  dataSource: DataSource,
  caller: TokenCaller,
  tokenId: string,
  actor: Actor,
): Promise<void> {
  await dataSource.transaction(async (m) => {
    const token = await m.getRepository(TokenEntity).findOneBy({ id: tokenId });
    if (!token || !visibleTo(caller, token)) throw BerthError.notFound('token', tokenId);
    if (caller.role === 'reader' && token.id !== caller.tokenId) {
      throw BerthError.forbidden('a reader may revoke only its own token');
    }
    if (caller.role === 'member' && !roleAtMost(token.role, caller.role)) {
      throw BerthError.forbidden(`you may not revoke a token above your own role (${caller.role})`);
    }
    await revokeToken(m, tokenId);
    await insertOperation(
      m,
      { ...actor, projectId: token.projectId },
      { action: 'token.revoke', targetType: 'token', targetId: tokenId, finished: true },
    );
  });
}

/** The tokens a caller sees: the cloud admin all, a project-admin its project's and its own user's, others their user's. */
export function visibleTo(caller: TokenCaller, token: { userId: string; projectId: string }): boolean {
  if (caller.role === 'admin' || token.userId === caller.userId) return true;
  return caller.role === 'project-admin' && token.projectId === caller.projectId;
}
