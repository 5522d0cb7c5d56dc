import type { BerthClient } from '@berth/client';
import { useQuery } from '@tanstack/react-query';
import { useSession } from './App';
import type { InstancePage, InstanceView, OperationPage } from './generated/api-types';

/** Every page of a cursor-paged list. */
async function allPages<T>(client: BerthClient, path: string, query: Record<string, string> = {}): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null | undefined;
  do {
    const page = await client.get<{ items: T[]; nextCursor?: string | null }>(path, {
      ...query,
      limit: 500,
      ...(cursor ? { cursor } : {}),
    });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

// Query keys follow the event stream's resource types (live.ts): 'instances', ['instance', id], 'operations'.

export function useInstances() {
  const { client } = useSession();
  return useQuery({ queryKey: ['instances'], queryFn: () => allPages<InstanceView>(client, '/v1/instances') });
}

export function useInstance(id: string) {
  const { client } = useSession();
  return useQuery({ queryKey: ['instance', id], queryFn: () => client.get<InstanceView>(`/v1/instances/${id}`) });
}

/** The instance's operations, newest first (its audit trail). */
export function useInstanceOperations(id: string) {
  const { client } = useSession();
  return useQuery({
    queryKey: ['instance-operations', id],
    queryFn: async () => (await client.get<OperationPage>('/v1/operations', { target: id, limit: 50 })).items,
  });
}

export type { InstancePage };
