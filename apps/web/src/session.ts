import { ApiError, BerthClient } from '@berth/client';
import type { TokenCreated } from './generated/api-types';

/** Who is logged in: the token (its secret), its user, project and role, and when it ends. */
export interface Session {
  token: string;
  tokenId: string;
  user: string;
  projectId: string;
  project: string;
  role: string;
  expiresAt: string | null;
}

// The session lives in memory and in this tab's sessionStorage (gone with the tab), never in a URL or localStorage.
const KEY = 'berth.session';

export function loadSession(): Session | null {
  const saved = sessionStorage.getItem(KEY);
  if (!saved) return null;
  const session = JSON.parse(saved) as Session;
  return session.expiresAt !== null && Date.parse(session.expiresAt) <= Date.now() ? null : session;
}

export function saveSession(session: Session | null): void {
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
}

/** A client of the API this page was served by, acting with the session's token (none before login). */
export function clientOf(session: Session | null): BerthClient {
  return new BerthClient({ url: window.location.origin, token: session?.token ?? null });
}

/** POST /v1/auth/tokens: a project-scoped token for the user's password. */
export async function logIn(user: string, password: string, project: string): Promise<Session> {
  const answer = await clientOf(null).request<TokenCreated>('POST', '/v1/auth/tokens', {
    body: { user, password, project },
  });
  const t = answer.body;
  return {
    token: t.token,
    tokenId: t.id,
    user,
    projectId: t.projectId ?? '',
    project,
    role: t.role,
    expiresAt: t.expiresAt ?? null,
  };
}

/**
 * Another of the user's projects, without the password again (POST /v1/auth/rescope): the session there, with the
 * user's role in it. The token it came from is revoked once the caller has moved to the new one (`leave`).
 */
export async function switchProject(session: Session, project: { id: string; name: string }): Promise<Session> {
  const t = (
    await clientOf(session).request<TokenCreated>('POST', '/v1/auth/rescope', { body: { project: project.id } })
  ).body;
  return {
    token: t.token,
    tokenId: t.id,
    user: session.user,
    projectId: t.projectId,
    project: project.name,
    role: t.role,
    expiresAt: t.expiresAt ?? null,
  };
}

/** Revokes the session's token (the API ends its event streams at once); a token already gone is fine. */
export async function logOut(session: Session): Promise<void> {
  try {
    await clientOf(session).request('DELETE', `/v1/tokens/${session.tokenId}`);
  } catch (error) {
    if (!(error instanceof ApiError) || (error.status !== 401 && error.status !== 404)) throw error;
  }
}

/** The API's message for a failure, and each field it named with its rule. */
export function explain(error: unknown): { message: string; fields: Record<string, string> } {
  if (error instanceof ApiError) {
    const fields: Record<string, string> = {};
    for (const d of error.body?.error.details ?? []) fields[d.field] = d.message;
    return { message: error.message, fields };
  }
  return { message: error instanceof Error ? error.message : String(error), fields: {} };
}
