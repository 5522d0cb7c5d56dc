import { ApiError, type BerthClient, type ServerEvent } from '@berth/client';
import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';

/** The query key of the events this tab has seen, newest first (the project page's feed). */
export const EVENT_FEED = 'event-feed';
const FEED_LENGTH = 200;

/**
 * Follows GET /v1/events for the session and refreshes what each event changes: an instance event its lists, its
 * page and the hosts' use, an operation event its page and the audit trail, a host event the hosts. No polling: the stream resumes with
 * Last-Event-ID after a drop. A refused stream (401: the token ended) calls `onRefused`.
 */
export function useLiveEvents(client: BerthClient, onRefused: () => void): void {
  const queries = useQueryClient();
  useEffect(() => {
    const abort = new AbortController();
    const follow = async () => {
      for await (const event of client.follow({}, { signal: abort.signal })) {
        const { type } = event.resource;
        void queries.invalidateQueries({ queryKey: [type] });
        void queries.invalidateQueries({ queryKey: [`${type}s`] });
        if (type === 'operation') void queries.invalidateQueries({ queryKey: ['instance-operations'] });
        // A host's use changes with the instances on it (a build, a move, a delete): its row is read again if shown.
        if (type === 'instance') void queries.invalidateQueries({ queryKey: ['hosts'] });
        queries.setQueryData<ServerEvent[]>([EVENT_FEED], (seen = []) => [event, ...seen].slice(0, FEED_LENGTH));
      }
    };
    follow().catch((error: unknown) => {
      if (abort.signal.aborted) return;
      if (error instanceof ApiError && error.status === 401) onRefused();
    });
    return () => abort.abort();
  }, [client, queries, onRefused]);
}
