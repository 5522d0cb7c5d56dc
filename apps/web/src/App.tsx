import type { BerthClient } from '@berth/client';
import { useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { Navigate, Route, Routes } from 'react-router';
import { Layout } from './components/Layout';
import { useLiveEvents } from './live';
import { HostsPage } from './pages/HostsPage';
import { InstancePage } from './pages/InstancePage';
import { InstancesPage } from './pages/InstancesPage';
import { LoginPage } from './pages/LoginPage';
import { PeakPage } from './pages/PeakPage';
import { ProjectPage } from './pages/ProjectPage';
import { ResourcesPage } from './pages/ResourcesPage';
import { clientOf, loadSession, logOut, saveSession, type Session } from './session';

interface SessionContext {
  session: Session;
  client: BerthClient;
  end: () => void;
  /** Moves to another session of the same user (a project switch); the old token is then revoked. */
  move: (next: Session) => void;
}

const Current = createContext<SessionContext | null>(null);

/** setTimeout's longest delay (2^31 - 1 ms): a longer one fires at once. */
const MAX_TIMER_MS = 2_147_483_647;

/** The logged-in session and its API client; only pages under the login use it. */
export function useSession(): SessionContext {
  const current = useContext(Current);
  if (!current) throw new Error('useSession outside a session');
  return current;
}

export function App() {
  const [session, setSession] = useState<Session | null>(loadSession);
  const queries = useQueryClient();
  const begin = useCallback((s: Session) => {
    saveSession(s);
    setSession(s);
  }, []);
  const end = useCallback(() => {
    saveSession(null);
    setSession(null);
    queries.clear();
  }, [queries]);
  if (!session) return <LoginPage onLogin={begin} />;
  return <LoggedIn session={session} begin={begin} end={end} />;
}

function LoggedIn({ session, begin, end }: { session: Session; begin: (s: Session) => void; end: () => void }) {
  const queries = useQueryClient();
  const client = useMemo(() => clientOf(session), [session]);
  // The page lets go of the session first (its event stream and queries end), then the token is revoked.
  const logout = useCallback(() => {
    end();
    void logOut(session).catch(() => undefined);
  }, [session, end]);
  useLiveEvents(client, end);
  // The session ends when its token does (past a timer's reach, 24 days, the stream's 401 ends it).
  useEffect(() => {
    if (session.expiresAt === null) return;
    const left = Math.max(0, Date.parse(session.expiresAt) - Date.now());
    if (left > MAX_TIMER_MS) return;
    const timer = setTimeout(end, left);
    return () => clearTimeout(timer);
  }, [session, end]);
  // What was read in the old project is not shown in the new one; the old token goes once the page has let go of it.
  const move = useCallback(
    (next: Session) => {
      queries.clear();
      begin(next);
      void logOut(session).catch(() => undefined);
    },
    [session, begin, queries],
  );
  const context = useMemo(() => ({ session, client, end: logout, move }), [session, client, logout, move]);
  return (
    <Current.Provider value={context}>
      <Layout>
        <Routes>
          <Route path="/" element={<Navigate to="/instances" replace />} />
          <Route path="/instances" element={<InstancesPage />} />
          <Route path="/instances/:id" element={<InstancePage />} />
          <Route path="/project" element={<ProjectPage />} />
          <Route path="/resources" element={<ResourcesPage />} />
          {session.role === 'admin' && <Route path="/hosts" element={<HostsPage />} />}
          {session.role === 'admin' && <Route path="/peak" element={<PeakPage />} />}
          <Route path="*" element={<Navigate to="/instances" replace />} />
        </Routes>
      </Layout>
    </Current.Provider>
  );
}
