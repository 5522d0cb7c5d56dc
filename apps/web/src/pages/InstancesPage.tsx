import {
  EmptyState,
  FormSelect,
  FormSelectOption,
  PageSection,
  SearchInput,
  Spinner,
  Title,
  Toolbar,
  ToolbarContent,
  ToolbarItem,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useState } from 'react';
import { Link } from 'react-router';
import { StatusLabel } from '../components/StatusLabel';
import { ErrorAlert } from '../components/ErrorAlert';
import type { InstanceView } from '../generated/api-types';
import { useInstances } from '../queries';

const STATUSES: Array<InstanceView['status']> = [
  'BUILDING',
  'ACTIVE',
  'SHUTOFF',
  'MIGRATING',
  'VERIFY_MIGRATION',
  'ERROR',
];

/** The project's instances, kept current by the event stream; filtered by name, status and kind. */
export function InstancesPage() {
  const instances = useInstances();
  const [name, setName] = useState('');
  const [status, setStatus] = useState('');
  const [kind, setKind] = useState('');
  const shown = (instances.data ?? []).filter(
    (i) => i.name.includes(name) && (status === '' || i.status === status) && (kind === '' || i.kind === kind),
  );
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">Instances</Title>
      </PageSection>
      <PageSection>
        <Toolbar>
          <ToolbarContent>
            <ToolbarItem>
              <SearchInput
                aria-label="Filter by name"
                placeholder="Name"
                value={name}
                onChange={(_, v) => setName(v)}
              />
            </ToolbarItem>
            <ToolbarItem>
              <FormSelect aria-label="Filter by status" value={status} onChange={(_, v) => setStatus(v)}>
                <FormSelectOption value="" label="Any status" />
                {STATUSES.map((s) => (
                  <FormSelectOption key={s} value={s} label={s} />
                ))}
              </FormSelect>
            </ToolbarItem>
            <ToolbarItem>
              <FormSelect aria-label="Filter by kind" value={kind} onChange={(_, v) => setKind(v)}>
                <FormSelectOption value="" label="Any kind" />
                <FormSelectOption value="container" label="Containers" />
                <FormSelectOption value="vm" label="Virtual machines" />
              </FormSelect>
            </ToolbarItem>
          </ToolbarContent>
        </Toolbar>
        {instances.error && <ErrorAlert error={instances.error} />}
        {instances.isPending ? (
          <Spinner aria-label="Loading instances" />
        ) : shown.length === 0 ? (
          <EmptyState titleText="No instances" headingLevel="h2" />
        ) : (
          <Table aria-label="Instances" variant="compact">
            <Thead>
              <Tr>
                <Th>Name</Th>
                <Th>Kind</Th>
                <Th>Status</Th>
                <Th>Address</Th>
                <Th>Flavor</Th>
                <Th>Image</Th>
              </Tr>
            </Thead>
            <Tbody>
              {shown.map((i) => (
                <Tr key={i.id} data-instance={i.name}>
                  <Td dataLabel="Name">
                    <Link to={`/instances/${i.id}`}>{i.name}</Link>
                  </Td>
                  <Td dataLabel="Kind">{i.kind}</Td>
                  <Td dataLabel="Status">
                    <StatusLabel instance={i} />
                  </Td>
                  <Td dataLabel="Address">{i.ip ?? '–'}</Td>
                  <Td dataLabel="Flavor">{i.flavor.name}</Td>
                  <Td dataLabel="Image">{i.image.name}</Td>
                </Tr>
              ))}
            </Tbody>
          </Table>
        )}
      </PageSection>
    </>
  );
}
