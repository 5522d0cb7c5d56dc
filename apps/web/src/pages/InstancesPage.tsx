import {
  Button,
  EmptyState,
  PageSection,
  Spinner,
  Title,
  Toolbar,
  ToolbarContent,
  ToolbarItem,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useState } from 'react';
import { Link } from 'react-router';
import { CreateInstance } from '../components/CreateInstance';
import { ErrorAlert } from '../components/ErrorAlert';
import { InstanceFilters, matches, NO_FILTER } from '../components/InstanceFilters';
import { StatusLabel } from '../components/StatusLabel';
import type { InstanceView } from '../generated/api-types';
import { useInstances } from '../queries';

/** The project's instances, kept current by the event stream; filtered by name, status and kind. */
export function InstancesPage() {
  const instances = useInstances();
  const [filter, setFilter] = useState(NO_FILTER);
  const [creating, setCreating] = useState(false);
  const shown = (instances.data ?? []).filter((i) => matches(i, filter));
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">Instances</Title>
      </PageSection>
      <PageSection>
        <Toolbar>
          <ToolbarContent>
            <InstanceFilters filter={filter} onChange={setFilter} />
            <ToolbarItem>
              <Button variant="primary" onClick={() => setCreating(true)}>
                Create instance
              </Button>
            </ToolbarItem>
          </ToolbarContent>
        </Toolbar>
        {creating && <CreateInstance onClose={() => setCreating(false)} />}
        {instances.error && <ErrorAlert error={instances.error} />}
        {instances.isPending ? (
          <Spinner aria-label="Loading instances" />
        ) : shown.length === 0 ? (
          <EmptyState titleText="No instances" headingLevel="h2" />
        ) : (
          <InstanceTable instances={shown} />
        )}
      </PageSection>
    </>
  );
}

function InstanceTable({ instances }: { instances: InstanceView[] }) {
  return (
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
        {instances.map((i) => (
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
  );
}
