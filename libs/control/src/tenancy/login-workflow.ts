import { insertOperation, insertToken, userCredentials, memberRole, setLoginFailures, type Actor } from '@berth/data';
import { afterFailedLogin, BerthError, type LockoutPolicy, type Role } from '@berth/domain';
import type { DataSource, EntityManager } from 'typeorm';
import { passwordMatches } from './passwords';
import { generateToken, hashToken } from './token-secrets';

export interface LoginSettings {
  /** How long a token from a password login works. */
  tokenTtlSec: number;
  lockout: LockoutPolicy;
}

export interface PasswordLogin {
  /** The user's name or id. */
  user: string;
  password: string;
  /** The project id the token is for (the caller resolved its name). */
  projectId: string | null;
}

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

/** One answer for every refusal, so that a caller learns nothing of which part was wrong. */
const REFUSED = () =>
  new BerthError('unauthenticated', 'the user, password and project were not accepted together; try again later');

/**
 * A password login (Keystone's password method, and POST /v1/auth/tokens): a token for the project, with the
 * user's role there, that expires. An unknown user, a wrong password, a user locked out, or one with no role in the
 * project are refused alike, at the same cost (the hash is checked in every case). Wrong passwords count towards a
 * lock-out; a right one resets the count.
 */
export async function passwordLogin(
  dataSource: DataSource,
  login: PasswordLogin,
  settings: LoginSettings,
  actor: Omit<Actor, 'projectId' | 'userId'>,
): Promise<IssuedToken> {
  const now = new Date();
  const user = await userCredentials(dataSource.manager, login.user);
  const matches = await passwordMatches(user?.passwordHash ?? null, login.password);
  if (!user || (user.lockedUntil !== null && user.lockedUntil > now)) throw REFUSED();
  if (!matches) {
    await dataSource.transaction(async (m) => {
      const current = await userCredentials(m, user.id, true);
      const next = afterFailedLogin(current?.failedLogins ?? 0, settings.lockout, now);
      await setLoginFailures(m, user.id, next.failures, next.lockedUntil);
    });
    throw REFUSED();
  }
  const issued = await dataSource.transaction(async (m) => {
    const role = login.projectId === null ? null : await memberRole(m, login.projectId, user.id);
    if (!role || !login.projectId) return null;
    await setLoginFailures(m, user.id, 0, null);
    return issueToken(m, { userId: user.id, projectId: login.projectId, role }, settings.tokenTtlSec, actor);
  });
  if (!issued) throw REFUSED();
  return issued;
}

/** A new token for the user in the project, named "login", expiring after `ttlSec`; recorded as an operation. */
async function issueToken(
  m: EntityManager,
  subject: { userId: string; projectId: string; role: Role },
  ttlSec: number,
  actor: Omit<Actor, 'projectId' | 'userId'>,
): Promise<IssuedToken> {
  const secret = generateToken();
  const row = await insertToken(m, {
    ...subject,
    name: 'login',
    secretHash: hashToken(secret),
    expiresAt: new Date(Date.now() + ttlSec * 1000),
  });
  await insertOperation(
    m,
    { ...actor, projectId: subject.projectId, userId: subject.userId },
    { action: 'token.login', targetType: 'token', targetId: row.id, finished: true },
  );
  const { id, userId, projectId, role, name, createdAt, expiresAt, revokedAt } = row;
  return { id, userId, projectId, role, name, createdAt, expiresAt, revokedAt, token: secret };
}
