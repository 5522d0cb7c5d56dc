import type { ServerEvent } from '@berth/client';
import {
  Button,
  Flex,
  FormGroup,
  FormSelect,
  FormSelectOption,
  PageSection,
  Progress,
  Spinner,
  Tab,
  Tabs,
  TabTitleText,
  TextInput,
  Title,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useSession } from '../App';
import { ErrorAlert } from '../components/ErrorAlert';
import { OperationTable } from '../components/OperationList';
import type { OperationPage, QuotaView } from '../generated/api-types';
import { EVENT_FEED } from '../live';
import { useQuota } from '../queries';

const RESOURCES: Array<[keyof QuotaView, string]> = [
  ['instances', 'Instances'],
  ['vcpus', 'vCPUs'],
  ['ramMb', 'RAM (MB)'],
  ['diskGb', 'Disk (GB)'],
  ['ips', 'Addresses'],
  ['volumes', 'Volumes'],
  ['volumeGb', 'Volume space (GiB)'],
];

/** The session's project: its quotas and their use, its audit trail, and the events of this session, live. */
export function ProjectPage() {
  const { session } = useSession();
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">Project {session.project}</Title>
      </PageSection>
      <PageSection>
        <Tabs defaultActiveKey="quotas" mountOnEnter aria-label="Project sections">
          <Tab eventKey="quotas" title={<TabTitleText>Quotas</TabTitleText>}>
            <Quotas />
          </Tab>
          <Tab eventKey="audit" title={<TabTitleText>Audit trail</TabTitleText>}>
            <AuditTrail />
          </Tab>
          <Tab eventKey="events" title={<TabTitleText>Events</TabTitleText>}>
            <EventFeed />
          </Tab>
        </Tabs>
      </PageSection>
    </>
  );
}

function Quotas() {
  const quota = useQuota();
  if (quota.error) return <ErrorAlert error={quota.error} />;
  if (!quota.data) return <Spinner aria-label="Loading the quotas" />;
  const q = quota.data;
  return (
    <Table aria-label="Quotas" variant="compact">
      <Thead>
        <Tr>
          <Th>Resource</Th>
          <Th>Used</Th>
          <Th>Limit</Th>
          <Th>Use</Th>
        </Tr>
      </Thead>
      <Tbody>
        {RESOURCES.map(([key, label]) => {
          const { used, limit } = q[key];
          return (
            <Tr key={key} data-quota={key}>
              <Td dataLabel="Resource">{label}</Td>
              <Td dataLabel="Used">{used}</Td>
              <Td dataLabel="Limit">{limit === -1 ? 'unlimited' : limit}</Td>
              <Td dataLabel="Use">
                {limit > 0 && (
                  <Progress
                    value={Math.min(100, Math.round((used / limit) * 100))}
                    aria-label={`${label}: ${used} of ${limit}`}
                    measureLocation="outside"
                  />
                )}
              </Td>
            </Tr>
          );
        })}
      </Tbody>
    </Table>
  );
}

const STATUSES = ['', 'running', 'succeeded', 'failed'] as const;

/** GET /v1/operations of the project, newest first, filtered by action and status, a page at a time. */
function AuditTrail() {
  const { client } = useSession();
  const [action, setAction] = useState('');
  const [status, setStatus] = useState<(typeof STATUSES)[number]>('');
  const pages = useInfiniteQuery({
    queryKey: ['operations', 'audit', action, status],
    initialPageParam: '',
    queryFn: ({ pageParam }) =>
      client.get<OperationPage>('/v1/operations', {
        limit: 50,
        ...(pageParam ? { cursor: pageParam } : {}),
        ...(action ? { action } : {}),
        ...(status ? { status } : {}),
      }),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  return (
    <Flex direction={{ default: 'column' }}>
      <Flex>
        <FormGroup label="Action" fieldId="audit-action">
          <TextInput
            id="audit-action"
            value={action}
            onChange={(_e, v) => setAction(v)}
            placeholder="instance.create"
          />
        </FormGroup>
        <FormGroup label="Status" fieldId="audit-status">
          <FormSelect id="audit-status" value={status} onChange={(_e, v) => setStatus(v as typeof status)}>
            {STATUSES.map((s) => (
              <FormSelectOption key={s} value={s} label={s || 'any'} />
            ))}
          </FormSelect>
        </FormGroup>
      </Flex>
      {pages.error && <ErrorAlert error={pages.error} />}
      {pages.data ? (
        <OperationTable operations={pages.data.pages.flatMap((p) => p.items)} withTarget />
      ) : (
        <Spinner aria-label="Loading the audit trail" />
      )}
      {pages.hasNextPage && (
        <Button variant="secondary" onClick={() => void pages.fetchNextPage()} isLoading={pages.isFetchingNextPage}>
          Older operations
        </Button>
      )}
    </Flex>
  );
}

/** What the event stream said since this tab logged in (or switched project), newest first. */
function EventFeed() {
  const feed = useQuery<ServerEvent[]>({ queryKey: [EVENT_FEED], queryFn: () => [], staleTime: Infinity });
  const events = feed.data ?? [];
  if (events.length === 0) return <p>No events yet: they appear here as they happen.</p>;
  return (
    <Table aria-label="Events" variant="compact">
      <Thead>
        <Tr>
          <Th>Time</Th>
          <Th>Event</Th>
          <Th>Resource</Th>
          <Th>Status</Th>
        </Tr>
      </Thead>
      <Tbody>
        {events.map((e) => (
          <Tr key={e.seq} data-event={e.type}>
            <Td dataLabel="Time">{new Date(e.at).toLocaleTimeString()}</Td>
            <Td dataLabel="Event">{e.type}</Td>
            <Td dataLabel="Resource">
              {e.resource.type} {e.resource.id.slice(0, 8)}
            </Td>
            <Td dataLabel="Status">{typeof e.data['status'] === 'string' ? e.data['status'] : ''}</Td>
          </Tr>
        ))}
      </Tbody>
    </Table>
  );
}
