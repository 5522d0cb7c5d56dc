import type { BerthClient } from '@berth/client';
import { useQuery } from '@tanstack/react-query';
import { useSession } from './App';
import type {
  FlavorList,
  HostList,
  ImageList,
  InstancePage,
  InstanceView,
  NetworkList,
  OperationPage,
  OperationView,
  QuotaView,
  ServerGroupList,
} from './generated/api-types';

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

/** The catalogue a create picks from: flavors, images, networks and the project's server groups. */
export function useCatalog() {
  const { client } = useSession();
  return useQuery({
    queryKey: ['catalog'],
    queryFn: async () => {
      const [flavors, images, networks, groups] = await Promise.all([
        client.get<FlavorList>('/v1/flavors'),
        client.get<ImageList>('/v1/images'),
        client.get<NetworkList>('/v1/networks'),
        client.get<ServerGroupList>('/v1/server-groups'),
      ]);
      return { flavors: flavors.items, images: images.items, networks: networks.items, groups: groups.items };
    },
  });
}

/** The session's project's quota: each limit and what is used now (refreshed by instance events). */
export function useQuota() {
  const { client, session } = useSession();
  return useQuery({
    queryKey: ['instances', 'quota'],
    queryFn: () => client.get<QuotaView>(`/v1/projects/${session.projectId}/quotas`),
  });
}

/** The compute hosts with their capacity and use (the cloud admin's); host events refresh them. */
export function useHosts() {
  const { client } = useSession();
  return useQuery({ queryKey: ['hosts'], queryFn: async () => (await client.get<HostList>('/v1/hosts')).items });
}

/** One operation with its steps; its events refresh it. */
export function useOperation(id: string | null) {
  const { client } = useSession();
  return useQuery({
    queryKey: ['operation', id],
    queryFn: () => client.get<OperationView>(`/v1/operations/${id ?? ''}`),
    enabled: id !== null,
  });
}

export type { InstancePage };
